import type { HbonePool } from '../../lib/hbone/index.js';
import { SpiffeId, type WorkloadCertificate } from '../../lib/identity/index.js';
import { WeftError } from '../../lib/errors/index.js';
import { HBONE_PORT } from '../../lib/names.js';
import type { Connector, UpstreamEndpoint, UpstreamStream } from './connector.js';
import { TunnelStream } from './tunnel-stream.js';

// Upstream over HBONE: a CONNECT to the endpoint pod's 15008 with `:authority <pod ip>:<targetPort>`,
// presenting the waypoint's own certificate and requiring the endpoint workload's SPIFFE ID. The pool
// shares one HTTP/2 session per (waypoint identity, endpoint identity, pod) across requests.

function ignore(): void {}

export interface HboneConnectorOptions {
  readonly pool: HbonePool;
  readonly source: SpiffeId;
  /** The waypoint's current certificate (renewed under us). */
  certificate(): Promise<WorkloadCertificate>;
  trustRoots(): readonly string[];
  /** Port of the HBONE listener at endpoints (15008; tests move it). */
  readonly port?: number;
  /** Host to dial instead of the pod IP (tests on loopback). */
  readonly nextHopHost?: (endpoint: UpstreamEndpoint) => string;
}

export class HboneConnector implements Connector {
  constructor(private readonly o: HboneConnectorOptions) {}

  async connect(endpoint: UpstreamEndpoint): Promise<UpstreamStream> {
    if (!endpoint.identity) throw new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: `${endpoint.address}:${endpoint.port}`, backend: '-', reason: 'the endpoint has no known workload identity' });
    const stream = await this.o.pool.connect({
      source: this.o.source,
      destination: SpiffeId.parse(endpoint.identity),
      nextHop: { host: this.o.nextHopHost?.(endpoint) ?? endpoint.address, port: this.o.port ?? HBONE_PORT },
      authority: endpoint.address.includes(':') ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`,
      certificate: await this.o.certificate(),
      trustRoots: this.o.trustRoots(),
    });
    // The same plain-Duplex front as inbound tunnels get (tunnel-stream.ts: one Buffer per write), plus the
    // socket-like ref/unref the clients' type asks for, which an HTTP/2 stream (keeping nothing alive by
    // itself) lacks.
    return Object.assign(new TunnelStream(stream), { ref: ignore, unref: ignore });
  }
}
