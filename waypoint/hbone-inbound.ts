import { createHboneServer, type HboneServer } from '../lib/hbone/index.js';
import type { ConnectionInfo } from './forward/connection.js';
import { HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT } from '../lib/names.js';
import type { WorkloadCertificate } from '../lib/identity/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import type { Registry } from 'prom-client';
import { isWeftError } from '../lib/errors/index.js';
import { TunnelStream } from './transport/tunnel-stream.js';
import type { Waypoint } from './waypoint.js';

// Inbound HBONE: mTLS with the waypoint's own certificate. In ambient the client's node agent opens the
// tunnel with the CLIENT pod's certificate, so the HBONE peer identity is the original client: it feeds
// L7 authorization and metrics. `:authority` is the Service VIP:port, which picks the Service (and the
// routes attached to it); a VIP this waypoint does not serve is refused with 503 before any byte flows,
// and the waypoint's own ports or loopback with 403 SELF_CALL (lib/hbone `ownPorts`).

export interface HboneInboundOptions {
  readonly waypoint: Waypoint;
  readonly certificate: WorkloadCertificate;
  readonly trustRoots: readonly string[];
  readonly log: Logger;
  readonly registry?: Registry;
  /** The port the HBONE listener is on, when not 15008 (refused as a CONNECT target like 15008). */
  readonly listenPort?: number;
  /** Sessions with no open stream are closed after this long (lib/hbone default: 5 min). */
  readonly sessionIdleMs?: number;
}

// The mesh's own ports (HBONE, and the node agent's capture ports, which a waypoint pod may carry too): a
// CONNECT to one of them on this waypoint's address, or to loopback, would tunnel back into a proxy.
const OWN_PORTS = [HBONE_PORT, OUTBOUND_PORT, INBOUND_PLAIN_PORT];

export function createHboneInbound(o: HboneInboundOptions): HboneServer {
  // The Service `authorize` resolves is the tunnel's context: `onTunnel` serves it without a second lookup.
  return createHboneServer<ConnectionInfo>({
    certificate: o.certificate,
    trustRoots: o.trustRoots,
    logger: o.log,
    registry: o.registry,
    ownPorts: o.listenPort === undefined ? OWN_PORTS : [...OWN_PORTS, o.listenPort],
    sessionIdleMs: o.sessionIdleMs,
    authorize: (peer, target, info) => {
      const r = o.waypoint.resolve({ authority: target.authority, principal: peer?.toString(), sourceIp: info.forwardedFor });
      return isWeftError(r) ? { allow: false, error: r } : { allow: true, context: r };
    },
    onTunnel: (stream, tunnel) => o.waypoint.serveTunnel(new TunnelStream(stream), tunnel.context),
  });
}
