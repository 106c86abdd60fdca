import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib/telemetry/log.js';
import type { DownstreamPeer, RequestHandler } from './exchange.js';
import { H2Request, H2Response } from './h2-exchange.js';
import { MAX_HEADER_BYTES } from './http1-server.js';

// HTTP/2 with prior knowledge (h2c) and gRPC on tunnel streams, through node:http2's server fed with
// `emit('connection')`. nghttp2 enforces the framing rules (no connection-specific headers, valid
// pseudo-headers, content-length consistent with DATA) and resets violating streams.

export interface H2ServerOptions<C extends DownstreamPeer> {
  readonly handler: RequestHandler<C>;
  readonly log: Logger;
  readonly idleTimeoutMs: number;
}

export class H2Server<C extends DownstreamPeer> {
  private readonly server: Http2Server<never, never, typeof H2Request, typeof H2Response>;
  private readonly info = new WeakMap<ServerHttp2Session, C>();
  private pending: C | undefined;

  constructor(private readonly o: H2ServerOptions<C>) {
    this.server = createServer({
      maxSessionMemory: 32,
      settings: { initialWindowSize: 4 * 1024 * 1024, maxHeaderListSize: MAX_HEADER_BYTES },
      Http2ServerRequest: H2Request,
      Http2ServerResponse: H2Response,
    });
    // 'session' is emitted synchronously inside emit('connection'), so `pending` belongs to it.
    this.server.on('session', (session: ServerHttp2Session) => {
      if (this.pending) this.info.set(session, this.pending);
      session.on('error', (err: Error) => o.log.debug({ err: err.message }, 'h2 session error'));
    });
    this.server.on('request', (req: H2Request, res: H2Response) => this.onRequest(req, res));
    this.server.on('stream', (stream) => {
      stream.setTimeout(o.idleTimeoutMs, () => stream.close(0x8 /* CANCEL */));
    });
  }

  accept(stream: Duplex, info: C): void {
    this.pending = info;
    try {
      this.server.emit('connection', stream);
    } finally {
      this.pending = undefined;
    }
  }

  private onRequest(req: H2Request, res: H2Response): void {
    const info = this.info.get(req.stream.session as ServerHttp2Session);
    if (!info) {
      res.writeHead(400).end();
      return;
    }
    this.o.handler.handle(info, req, res);
  }

  close(): void {
    this.server.close();
  }
}
