import type { Duplex } from 'node:stream';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { ChunkedDecoder, type ChunkSink } from '../h1/chunked.js';
import type { DownstreamPeer, RequestHandler } from './exchange.js';
import { H1Request, H1Response, RequestBody, type ExchangeConnection } from './h1-exchange.js';
import { connectionHas, HEAD_ERROR, HEAD_MORE, HeadParser } from '../h1/head-parser.js';
import { flush, writeLater, type BatchedSocket } from '../h1/write-batch.js';

// HTTP/1.1 on tunnel streams with the waypoint's own parser (h1/head-parser.ts, h1/chunked.ts) instead of
// node:http: node:http's server and client cost ~0.1 ms of CPU per request in bench/waypoint. Strict as llhttp is
// without lenient flags, plus what llhttp leaves open: CL+TE, duplicate or invalid Content-Length,
// transfer codings other than plain `chunked`, bad chunk sizes and missing chunk CRLFs, obs-fold, bare CR
// or LF, invalid header bytes, oversize heads, missing or several Host headers and non-origin-form targets
// are all refused with 400 and `connection: close` (test/waypoint/waypoint-malformed.test.ts), as are
// chunk extensions over 16 KiB per chunk-size line and trailers over 16 KiB (h1/chunked.ts,
// test/waypoint/waypoint-h1-chunk-extensions.test.ts); each refusal is logged once (warn,
// ERR_WEFT_WAYPOINT_BAD_REQUEST) and counted (weft_waypoint_bad_requests_total). Whatever
// was pipelined behind a refused request is never parsed, answered or forwarded. Chunked bodies are held
// back until complete or 64 KiB (H1Request.holdBackBody), so a broken chunk stream is refused before any byte goes
// upstream. Requests on one connection are served one after the other (pipelined ones wait, bounded).

export const MAX_HEADER_BYTES = 16 * 1024;
/** Pipelined bytes kept while a request is in flight before the socket is paused. */
const PIPELINE_BUFFER_BYTES = 64 * 1024;
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const SWEEP_INTERVAL_MS = 1_000;

const BAD_REQUEST_BODY = 'malformed or ambiguous HTTP request\n';
const BAD_REQUEST = Buffer.from(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: ${BAD_REQUEST_BODY.length}\r\nx-weft-reason: BAD_REQUEST\r\nconnection: close\r\n\r\n${BAD_REQUEST_BODY}`, 'latin1');
const EXPECTATION_FAILED = Buffer.from('HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n', 'latin1');
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Counts refused requests (weft_waypoint_bad_requests_total). */
export interface BadRequestCounter {
  badRequest(service: string): void;
}

export interface Http1ServerOptions<C extends DownstreamPeer> {
  readonly handler: RequestHandler<C>;
  readonly log: Logger;
  readonly metrics: BadRequestCounter;
  /** Idle timeout of a downstream connection, ms. */
  readonly idleTimeoutMs: number;
}

const enum State {
  Head,
  Body,
  /** The request is complete; its response is in flight. */
  Wait,
  Closed,
}

function isOriginForm(method: string, url: string): boolean {
  return url.charCodeAt(0) === 47 /* / */ || (method === 'OPTIONS' && url === '*');
}

class H1Connection<C extends DownstreamPeer> implements ExchangeConnection, ChunkSink, BatchedSocket {
  pending: Buffer | Buffer[] | null = null;
  private readonly parser = new HeadParser('request', MAX_HEADER_BYTES);
  private decoder: ChunkedDecoder | undefined;
  private state = State.Head;
  /** Received bytes not yet processed. */
  private buf: Buffer | null = null;
  private driving = false;
  private res: H1Response | null = null;
  private body: RequestBody | null = null;
  private bodyRemaining = 0;
  private bodyChunked = false;
  /** The response is done before its request body: the rest of the body is read and dropped. */
  private bodyDiscard = false;
  private keepAlive = true;
  /** Coarse times (the server's sweep clock) for the header, keep-alive and idle timeouts. */
  private since: number;
  private lastActivity: number;

  constructor(
    private readonly server: Http1Server<C>,
    readonly socket: Duplex,
    private readonly info: C,
  ) {
    this.since = this.lastActivity = server.clock;
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('drain', () => this.res?.emit('drain'));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') server.log.debug({ err: err.message }, 'downstream HTTP/1.1 connection error');
    });
    socket.once('close', () => this.onClose());
  }

  // ExchangeConnection
  write(data: Buffer): boolean {
    if (!this.socket.writable) return true;
    this.lastActivity = this.server.clock;
    flush(this);
    return this.socket.write(data);
  }

  writeLast(data: Buffer): void {
    if (!this.socket.writable) return;
    this.lastActivity = this.server.clock;
    writeLater(this, data);
  }

  destroy(): void {
    this.state = State.Closed;
    this.socket.destroy();
  }

  responseDone(res: H1Response): void {
    if (res !== this.res) return;
    if (!res.keepAlive) this.keepAlive = false;
    if (this.state === State.Wait) this.next();
    else if (this.state === State.Body) {
      // Like node:http, the unread rest of the body is dropped so the connection can go on.
      this.bodyDiscard = true;
      if (this.socket.isPaused()) this.socket.resume();
      const b = this.body;
      if (b && !b.readableEnded) b.destroy();
      if (!this.keepAlive) this.close();
    }
  }

  // ChunkSink
  chunkData(data: Buffer): void {
    this.pushBody(data);
  }

  /** Sweep: header, keep-alive and idle timeouts, without a timer per connection or request. */
  sweep(now: number, idleTimeoutMs: number): void {
    if (this.state === State.Closed) return;
    if (now - this.lastActivity > idleTimeoutMs) this.destroy();
    else if (this.state === State.Head && !this.res) {
      if (this.parser.inProgress ? now - this.since > HEADERS_TIMEOUT_MS : now - this.since > KEEP_ALIVE_TIMEOUT_MS) this.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === State.Closed) return;
    this.lastActivity = this.server.clock;
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.drive();
  }

  private drive(): void {
    if (this.driving) return;
    this.driving = true;
    try {
      while (this.buf !== null) {
        if (this.state === State.Head) {
          const buf = this.buf;
          const r = this.parser.feed(buf, 0);
          if (r === HEAD_MORE) {
            this.buf = null;
            break;
          }
          if (r === HEAD_ERROR) {
            this.refuse(this.parser.error);
            break;
          }
          this.buf = r < buf.length ? buf.subarray(r) : null;
          this.startRequest();
        } else if (this.state === State.Body) {
          this.readBody();
        } else {
          // Wait (pipelined bytes are kept, bounded) or Closed.
          if (this.state === State.Wait && this.buf.length > PIPELINE_BUFFER_BYTES) this.socket.pause();
          if (this.state === State.Closed) this.buf = null;
          break;
        }
      }
    } finally {
      this.driving = false;
    }
  }

  private startRequest(): void {
    const p = this.parser;
    let bad: string | undefined;
    if (p.contentLengthCount > 1) bad = 'several Content-Length headers';
    else if (p.contentLength === -2) bad = 'invalid Content-Length';
    else if (p.transferEncodingCount > 0) {
      if (p.contentLengthCount > 0) bad = 'Content-Length with Transfer-Encoding';
      else if (p.transferEncodingCount > 1 || p.transferEncoding.trim().toLowerCase() !== 'chunked') bad = `unsupported Transfer-Encoding "${p.transferEncoding}"`;
    }
    if (bad === undefined) {
      if (p.hostCount > 1) bad = 'several Host headers';
      else if (p.hostCount === 0 && p.versionMinor >= 1) bad = 'no Host header';
      else if (!isOriginForm(p.method, p.url)) bad = 'request target is not origin-form';
    }
    if (bad !== undefined) {
      this.refuse(bad);
      return;
    }
    const keepAlive = p.versionMinor >= 1 ? !connectionHas(p.connection, 'close') : connectionHas(p.connection, 'keep-alive');
    if (p.expect !== '' && p.versionMinor >= 1) {
      if (p.expect.toLowerCase() !== '100-continue') {
        // node:http's answer to an expectation it cannot meet.
        this.state = State.Closed;
        flush(this);
        this.socket.end(EXPECTATION_FAILED);
        return;
      }
      flush(this);
      this.socket.write(CONTINUE);
    }
    const chunked = p.transferEncodingCount > 0;
    const hasBody = chunked || p.contentLength > 0;
    const body = hasBody ? new RequestBody(() => this.socket.resume()) : null;
    const req = new H1Request(p.method, p.url, p.headers, p.versionMinor, body);
    const res = new H1Response(this, p.method === 'HEAD', p.versionMinor, keepAlive);
    const contentLength = p.contentLength;
    p.reset();
    this.keepAlive = keepAlive;
    this.body = body;
    this.bodyDiscard = false;
    this.bodyChunked = chunked;
    this.bodyRemaining = chunked ? 0 : contentLength;
    if (chunked) (this.decoder ??= new ChunkedDecoder(this)).reset();
    this.res = res;
    this.state = hasBody ? State.Body : State.Wait;
    this.server.handler.handle(this.info, req, res);
  }

  private readBody(): void {
    const buf = this.buf!;
    if (this.bodyChunked) {
      const r = this.decoder!.feed(buf, 0);
      if (r === -2) {
        this.bodyBroken(this.decoder!.error);
        return;
      }
      if (r === -1) {
        this.buf = null;
        return;
      }
      this.buf = r < buf.length ? buf.subarray(r) : null;
    } else {
      const take = Math.min(this.bodyRemaining, buf.length);
      this.pushBody(take === buf.length ? buf : buf.subarray(0, take));
      this.bodyRemaining -= take;
      this.buf = take < buf.length ? buf.subarray(take) : null;
      if (this.bodyRemaining > 0) return;
    }
    // The body is complete.
    const b = this.body;
    this.body = null;
    if (b && !this.bodyDiscard) b.push(null);
    this.state = State.Wait;
    if (this.res?.writableFinished) this.next();
  }

  private pushBody(data: Buffer): void {
    if (this.bodyDiscard || !this.body) return;
    if (!this.body.push(data)) this.socket.pause();
  }

  /** The request body broke (bad chunking): 400 if nothing was answered yet, else a reset. */
  private bodyBroken(reason: string): void {
    const b = this.body;
    this.body = null;
    if (b && !b.destroyed) b.destroy(new Error(`malformed request body: ${reason}`));
    this.refuse(reason);
  }

  /** Serves the next request, or closes. */
  private next(): void {
    this.res = null;
    if (!this.keepAlive) {
      this.close();
      return;
    }
    this.state = State.Head;
    this.since = this.server.clock;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) this.drive();
  }

  private close(): void {
    this.state = State.Closed;
    this.buf = null;
    flush(this);
    this.socket.end();
  }

  /** A refused request: 400 (unless a response already started), then close; nothing behind it is read. */
  private refuse(why: string): void {
    const info = this.info;
    // Some reasons quote the client's bytes (a Transfer-Encoding value): the log line stays short.
    const reason = why.length > 200 ? `${why.slice(0, 200)}...` : why;
    const err = new WeftError('ERR_WEFT_WAYPOINT_BAD_REQUEST', { peer: info.principal ?? info.sourceIp ?? 'unknown', reason });
    this.server.log.warn({ code: err.code, flag: err.flag, service: info.serviceLabel, source: info.sourceWorkload, principal: info.principal, reason }, err.message);
    this.server.metrics.badRequest(info.serviceLabel);
    const res = this.res;
    this.state = State.Closed;
    this.buf = null;
    if (res && res.headersSent) {
      this.socket.destroy();
      return;
    }
    if (res) res.writableFinished = true; // the request path's later writes go nowhere
    flush(this);
    if (this.socket.writable) this.socket.end(BAD_REQUEST, () => this.socket.destroy());
    else this.socket.destroy();
  }

  private onEnd(): void {
    // The client half-closed. Like node:http (allowHalfOpen off): an incomplete request is aborted and
    // the connection ends.
    const b = this.body;
    if (b && !b.readableEnded && !b.destroyed) b.destroy(new Error('client closed during the request body'));
    this.body = null;
    if (this.state !== State.Closed) {
      this.state = State.Closed;
      this.buf = null;
      flush(this);
      if (this.socket.writable) this.socket.end();
    }
  }

  private onClose(): void {
    this.state = State.Closed;
    this.buf = null;
    const b = this.body;
    if (b && !b.readableEnded && !b.destroyed) b.destroy(new Error('client connection closed'));
    this.body = null;
    this.res?.connectionClosed();
    this.server.forget(this);
  }
}

export class Http1Server<C extends DownstreamPeer> {
  /** Coarse clock (ms) advanced by the sweep; connections stamp it instead of reading the time per request. */
  clock = performance.now();
  readonly handler: RequestHandler<C>;
  readonly log: Logger;
  readonly metrics: BadRequestCounter;
  private readonly connections = new Set<H1Connection<C>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: Http1ServerOptions<C>) {
    this.handler = o.handler;
    this.log = o.log;
    this.metrics = o.metrics;
    this.sweeper = setInterval(() => {
      this.clock = performance.now();
      for (const c of this.connections) c.sweep(this.clock, o.idleTimeoutMs);
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Serves HTTP/1.1 on a connection (a tunnel stream) whose requests all go to `info.service`. */
  accept(stream: Duplex, info: C): void {
    this.clock = performance.now();
    this.connections.add(new H1Connection(this, stream, info));
  }

  forget(c: H1Connection<C>): void {
    this.connections.delete(c);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.connections) c.destroy();
    this.connections.clear();
  }
}
