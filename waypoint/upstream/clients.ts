import { connect as h2connect, constants as h2c, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Headers } from './exchange.js';
import { H1Pool } from './h1-pool.js';
import type { Connector, UpstreamEndpoint } from '../transport/connector.js';
import type { UpstreamRequest, UpstreamResponse } from './exchange.js';

// Connections to endpoints, one entry per endpoint: the waypoint's own HTTP/1.1 pool (h1/client.ts, over
// the connector's streams, i.e. HBONE tunnels) and one HTTP/2 session for h2/gRPC. Both are created
// lazily and dropped when the endpoint leaves the Service.

export type { UpstreamRequest, UpstreamResponse } from './exchange.js';
export type UpstreamProtocol = 'http1' | 'h2';

const H1_CONNECTIONS = 256;
const H1_IDLE_TIMEOUT_MS = 30_000;
const SWEEP_INTERVAL_MS = 5_000;

class H2Client {
  private session: Promise<ClientHttp2Session> | undefined;

  constructor(
    private readonly endpoint: UpstreamEndpoint,
    private readonly connector: Connector,
  ) {}

  private get(): Promise<ClientHttp2Session> {
    if (this.session) return this.session;
    const p = this.connector.connect(this.endpoint).then((stream) => {
      const s = h2connect(`http://${this.endpoint.address}:${this.endpoint.port}`, {
        createConnection: () => stream,
        settings: { initialWindowSize: 4 * 1024 * 1024 },
      });
      const drop = (): void => {
        if (this.session === p) this.session = undefined;
      };
      s.once('close', drop);
      s.once('goaway', drop);
      s.on('error', drop);
      return s;
    });
    this.session = p;
    p.catch(() => {
      if (this.session === p) this.session = undefined;
    });
    return p;
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const session = await this.get();
    req.signal?.throwIfAborted();
    const headers: Record<string, string | string[]> = {
      [h2c.HTTP2_HEADER_METHOD]: req.method,
      [h2c.HTTP2_HEADER_PATH]: req.path,
      [h2c.HTTP2_HEADER_SCHEME]: 'http',
      [h2c.HTTP2_HEADER_AUTHORITY]: req.authority,
    };
    for (const k in req.headers) {
      const v = req.headers[k];
      if (v !== undefined && k !== 'host') headers[k] = v;
    }
    const endStream = req.body === null || (Buffer.isBuffer(req.body) && req.body.length === 0);
    const stream: ClientHttp2Stream = session.request(headers, req.signal ? { endStream, signal: req.signal } : { endStream });
    if (!endStream) {
      if (Buffer.isBuffer(req.body)) stream.end(req.body);
      else (req.body).pipe(stream);
    }
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let trailers: Headers | undefined;
      stream.once('trailers', (t: IncomingHttpHeaders) => {
        trailers = t;
      });
      stream.once('response', (h: IncomingHttpHeaders, flags: number) => {
        stream.off('error', reject);
        const status = Number(h[h2c.HTTP2_HEADER_STATUS]);
        const out: Headers = {};
        for (const k in h) if (k.charCodeAt(0) !== 58 /* ':' */) out[k] = h[k];
        const endStream = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
        resolve({ status, headers: out, body: stream, endStream, trailers: () => trailers });
      });
      stream.once('error', reject);
    });
  }

  close(): void {
    void this.session?.then((s) => s.close(), () => undefined);
    this.session = undefined;
  }
}

/** Clients per endpoint and protocol. */
export class UpstreamClients {
  private readonly h1 = new Map<string, H1Pool>();
  private readonly h2 = new Map<string, H2Client>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly connector: Connector) {
    // Idle HTTP/1.1 connections are closed after 30 s by one timer for all pools, not one per socket.
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const p of this.h1.values()) p.sweep(now);
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  request(protocol: UpstreamProtocol, endpoint: UpstreamEndpoint, req: UpstreamRequest): Promise<UpstreamResponse> {
    const key = `${endpoint.address}:${endpoint.port}`;
    if (protocol === 'h2') {
      let c = this.h2.get(key);
      if (!c) this.h2.set(key, (c = new H2Client(endpoint, this.connector)));
      return c.request(req);
    }
    let c = this.h1.get(key);
    if (!c) this.h1.set(key, (c = new H1Pool(endpoint, this.connector, { maxConnections: H1_CONNECTIONS, idleTimeoutMs: H1_IDLE_TIMEOUT_MS })));
    return c.request(req);
  }

  /** Closes clients of endpoints not in `keep` (keys `address:port`). */
  retain(keep: ReadonlySet<string>): void {
    for (const m of [this.h1, this.h2] as Map<string, H1Pool | H2Client>[]) {
      for (const [k, c] of m) {
        if (!keep.has(k)) {
          c.close();
          m.delete(k);
        }
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.retain(new Set());
  }
}
