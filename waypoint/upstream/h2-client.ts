import { connect as h2connect, constants as h2c, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Connector, UpstreamEndpoint } from '../transport/connector.js';
import type { Headers, UpstreamCallback, UpstreamRequest, UpstreamResponse } from './exchange.js';

// One HTTP/2 session to an endpoint (h2c over the connector's stream) for h2 and gRPC upstreams, opened
// on first use and dropped when it closes or goes away.

export class H2Client {
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

  /** Sends `req`; `cb` gets the response head or the error. */
  request(req: UpstreamRequest, cb: UpstreamCallback): void {
    this.exchange(req).then(
      (r) => cb(null, r),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err)), undefined),
    );
  }

  private async exchange(req: UpstreamRequest): Promise<UpstreamResponse> {
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
