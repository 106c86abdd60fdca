import { tapDryRun, tapVerdict, type ConnectionTapEvent } from '../../lib/tap/index.js';
import type { ConnectionInfo } from './connections.js';

// The node agent's tap event for a connection, built from the record its access log line comes from.
// Called only while a tap listener is attached (Connections checks TapHub.listening first).

export interface ConnectionEnd {
  readonly outcome: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly durationMs: number;
}

export function connectionTapEvent(id: number, info: ConnectionInfo, end: ConnectionEnd | undefined): ConnectionTapEvent {
  const colon = info.dst.lastIndexOf(':');
  return {
    type: 'connection',
    event: end === undefined ? 'open' : 'close',
    time: new Date().toISOString(),
    id,
    reporter: info.reporter,
    direction: info.direction,
    via: info.path,
    source: { workload: info.srcWorkload, namespace: info.srcNamespace, identity: info.srcIdentity, ip: info.srcIp },
    destination: {
      workload: info.dstWorkload,
      namespace: info.dstNamespace,
      identity: info.dstIdentity,
      address: colon < 0 ? info.dst : info.dst.slice(0, colon),
      port: info.dstPort,
      service: info.service.destination_service,
    },
    ...end,
    // The source agent does not decide policy (the destination does): no verdict on its side.
    ...(info.reporter === 'destination' ? { verdict: tapVerdict(info.authz) } : {}),
    ...(info.wouldBe === undefined ? {} : { dryRun: tapDryRun(info.wouldBe) }),
  };
}
