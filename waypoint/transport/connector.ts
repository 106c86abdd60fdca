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

/** Takes a connection's received bytes; `chunk` is only valid during the call (see ReadRelay). */
export interface ReadSink {
  /** Returns false to pause reading (the stream's resume() restarts it). */
  readBytes(chunk: Buffer): boolean;
}

/** Every relayed read lands here: one buffer, read into and handed on synchronously, never held. */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads of a plain TCP upstream delivered straight from the socket's read callback (net.Socket `onread`,
 * Node >= 12.12) into one buffer shared by every relayed socket, instead of a fresh 64 KiB buffer per
 * read pushed through the Readable stream layer and emitted as 'data'. The sink must copy whatever it
 * keeps before it returns: the next read overwrites it. A connector that cannot relay (an HBONE tunnel
 * stream) ignores the relay and the stream emits 'data' as usual, so a consumer listens on both.
 */
export class ReadRelay {
  sink: ReadSink | null = null;
  readonly onread = {
    buffer: SHARED_READ_BUFFER,
    callback: (n: number, buf: Buffer): boolean => {
      const s = this.sink;
      // No consumer yet: bytes nobody asked for; pausing leaves them in the kernel for whoever comes.
      return s === null ? false : s.readBytes(buf.subarray(0, n));
    },
  };
}

export interface Connector {
  /** `relay`: deliver reads through it when the transport can (plain TCP); see ReadRelay. */
  connect(endpoint: UpstreamEndpoint, relay?: ReadRelay): Promise<UpstreamStream>;
}

/** Plain TCP to address:port; used by tests and by a waypoint running without mesh identity. */
export class TcpConnector implements Connector {
  constructor(private readonly timeoutMs = 5_000) {}

  connect(endpoint: UpstreamEndpoint, relay?: ReadRelay): Promise<UpstreamStream> {
    return new Promise((resolve, reject) => {
      const socket: Socket = netConnect({ host: endpoint.address, port: endpoint.port, noDelay: true, ...(relay ? { onread: relay.onread } : {}) });
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
