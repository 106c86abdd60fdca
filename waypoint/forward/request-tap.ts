import { tapDryRun, tapVerdict, type RequestTapEvent } from '../../lib/tap/index.js';
import { UNKNOWN, serviceLabelsOf } from '../../lib/telemetry/istio-labels.js';
import { NO_DESTINATION } from '../metrics.js';
import type { Call } from './call.js';

// The waypoint's tap event for a finished request, built from the Call its metrics and access log line
// come from. Called only while a tap listener is attached (Forwarder.done checks TapHub.listening first).

export function requestTapEvent(call: Call, status: number, outcome: string, ms: number): RequestTapEvent {
  const conn = call.conn;
  // `<namespace>/<workload>`, as the connection's metric labels hold it.
  const slash = conn.sourceWorkload.indexOf('/');
  const dst = call.entry?.labels ?? NO_DESTINATION;
  return {
    type: 'request',
    time: new Date().toISOString(),
    method: call.method,
    authority: call.clientAuthority,
    path: call.clientPath,
    status,
    ...(call.grpcStatus === '' ? {} : { grpcStatus: call.grpcStatus }),
    outcome,
    route: call.routeLabel,
    backend: call.backendLabel,
    ...(call.entry === undefined ? {} : { endpoint: call.entry.key }),
    latencyMs: Math.round(ms * 100) / 100,
    source: {
      workload: slash < 0 ? conn.sourceWorkload : conn.sourceWorkload.slice(slash + 1),
      namespace: slash < 0 ? UNKNOWN : conn.sourceWorkload.slice(0, slash),
      identity: conn.principal ?? UNKNOWN,
      ...(conn.sourceIp === undefined ? {} : { ip: conn.sourceIp }),
    },
    destination: { workload: dst.workload, namespace: dst.namespace, identity: dst.principal, service: serviceLabelsOf(conn.service).destination_service },
    verdict: tapVerdict(call.decision),
    ...(call.wouldBe === undefined ? {} : { dryRun: tapDryRun(call.wouldBe) }),
  };
}
