import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// The seam between the waypoint and the transport to an endpoint: in production an HBONE tunnel to the
// endpoint pod's 15008 (hbone-connector.ts), in tests plain loopback TCP. Everything above it (the
// HTTP/1.1 pools, HTTP/2 sessions, opaque TCP) only sees a Duplex with a socket's `ref`/`unref` (which
// node:http2's Http2Session#ref/unref forward to).

export interface UpstreamEndpoint {
  /** Pod IP. */
  readonly address: string;
  /** Target port on the pod. */
  readonly port: number;
  /** SPIFFE ID the endpoint must present (its workload's service account); undefined if unknown. */
  readonly identity: string | undefined;
}

export type UpstreamStream = Duplex & { ref(): unknown; unref(): unknown };

export interface Connector {
  connect(endpoint: UpstreamEndpoint): Promise<UpstreamStream>;
}

/** Plain TCP to address:port; used by tests and by a waypoint running without mesh identity. */
export class TcpConnector implements Connector {
  constructor(private readonly timeoutMs = 5_000) {}

  connect(endpoint: UpstreamEndpoint): Promise<UpstreamStream> {
    return new Promise((resolve, reject) => {
      const socket: Socket = netConnect({ host: endpoint.address, port: endpoint.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${endpoint.address}:${endpoint.port} timed out`)), this.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}
