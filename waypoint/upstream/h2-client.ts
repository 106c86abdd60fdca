import { connect as h2connect, constants as h2c, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Connector, UpstreamEndpoint } from '../transport/connector.js';
import type { Headers, UpstreamCallback, UpstreamRequest } from './exchange.js';

// One HTTP/2 session to an endpoint (h2c over the connector's stream) for h2 and gRPC upstreams, opened
// on first use and dropped when it closes or goes away.

export class H2Client {
  private session: Promise<ClientHttp2Session> | undefined;
  /** The session once connected: requests on it start at once, without a promise or a microtask hop. */
  private live: ClientHttp2Session | undefined;

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
        if (this.live === s) this.live = undefined;
      };
      s.once('close', drop);
      s.once('goaway', drop);
      s.on('error', drop);
      if (this.session === p) this.live = s;
      return s;
    });
    this.session = p;
    p.catch(() => {
      if (this.session === p) this.session = undefined;
    });
    return p;
  }

  /** Sends `req`; `cb` gets the response head or the error, exactly once. */
  request(req: UpstreamRequest, cb: UpstreamCallback): void {
    const live = this.live;
    if (live && !live.closed && !live.destroyed) {
      this.exchange(live, req, cb);
      return;
    }
    this.get().then(
      (session) => this.exchange(session, req, cb),
      (err: unknown) => cb(asError(err), undefined),
    );
  }

  private exchange(session: ClientHttp2Session, req: UpstreamRequest, cb: UpstreamCallback): void {
    let stream: ClientHttp2Stream;
    try {
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
      stream = session.request(headers, req.signal ? { endStream, signal: req.signal } : { endStream });
      if (!endStream) {
        if (Buffer.isBuffer(req.body)) stream.end(req.body);
        else req.body.pipe(stream);
      }
    } catch (err) {
      cb(asError(err), undefined);
      return;
    }
    let trailers: Headers | undefined;
    const failed = (err: Error): void => cb(err, undefined);
    stream.once('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.once('response', (h: IncomingHttpHeaders, flags: number) => {
      stream.off('error', failed);
      const status = Number(h[h2c.HTTP2_HEADER_STATUS]);
      const out: Headers = {};
      for (const k in h) if (k.charCodeAt(0) !== 58 /* ':' */) out[k] = h[k];
      const endStream = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
      cb(null, { status, headers: out, body: stream, endStream, trailers: () => trailers });
    });
    stream.once('error', failed);
  }

  close(): void {
    void this.session?.then((s) => s.close(), () => undefined);
    this.session = undefined;
    this.live = undefined;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
