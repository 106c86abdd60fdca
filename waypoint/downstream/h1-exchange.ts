import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { isFieldValue, isToken } from '../h1/chars.js';
import type { HeaderMap } from '../h1/head-parser.js';
import type { DownRequest, DownResponse, OutHeaders } from './exchange.js';

// One request/response exchange on a downstream HTTP/1.1 connection of the waypoint's own server
// (http1-server.ts): the parsed request (a plain object; a body stream only when there is a body) and the
// response writer the request path drives, both behind the downstream interface (exchange.ts). The
// writer sends the head together with the first body bytes, and a whole small response in ONE write:
// node:http's cork/writev of head and body was a third of the waypoint's CPU in bench/waypoint.

/** What the connection offers its exchanges. */
export interface ExchangeConnection {
  /** Writes bytes of the current response; false means wait for 'drain'. */
  write(data: Buffer): boolean;
  /** Queues the last bytes of a response for the end of the event-loop turn (write-batch.ts). */
  writeLast(data: Buffer): void;
  /** The response is complete (the connection may serve the next request). */
  responseDone(res: H1Response): void;
  /** Tears the connection down (a response that cannot be completed). */
  destroy(): void;
}

/** A request body as a stream; fed by the connection, which pauses the socket while it is full. */
export class RequestBody extends Readable {
  constructor(private readonly onRead: () => void) {
    super();
  }

  override _read(): void {
    this.onRead();
  }
}

export class H1Request implements DownRequest {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: HeaderMap,
    readonly httpVersionMinor: number,
    /** The body stream, or null when the request has none (no Content-Length > 0, not chunked). */
    readonly body: RequestBody | null,
  ) {}

  /** A chunked body is held back until complete (or 64 KiB), so bad chunking is refused before forwarding. */
  get holdBackBody(): boolean {
    return this.body !== null && this.headers['transfer-encoding'] !== undefined;
  }
}

const SINGLE_WRITE_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

function validHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`invalid header name "${name}"`);
  if (!isFieldValue(value)) throw new TypeError(`invalid value for header "${name}"`);
}

export class H1Response extends EventEmitter implements DownResponse {
  headersSent = false;
  writableFinished = false;
  /** Status sent, for logs. */
  statusCode = 200;
  private head = '';
  private chunked = false;
  private noBody = false;
  private trailers: Record<string, string | string[]> | undefined;
  /** end() is writing: a response's last (or only) write is batched. */
  private last = false;

  constructor(
    private readonly conn: ExchangeConnection,
    private readonly isHead: boolean,
    private readonly versionMinor: number,
    /** Whether the connection stays open after this response; writeHead may clear it. */
    public keepAlive: boolean,
  ) {
    super();
  }

  writeHead(status: number, headers?: OutHeaders): this {
    if (this.headersSent) throw new Error('headers already sent');
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let hasLength = false;
    if (headers) {
      for (const k in headers) {
        const v = headers[k];
        if (v === undefined) continue;
        if (k === 'content-length') hasLength = true;
        if (Array.isArray(v)) {
          for (const x of v) {
            validHeader(k, x);
            head += `${k}: ${x}\r\n`;
          }
        } else {
          const s = typeof v === 'string' ? v : String(v);
          validHeader(k, s);
          head += `${k}: ${s}\r\n`;
        }
      }
    }
    this.noBody = this.isHead || status === 204 || status === 304 || status < 200;
    if (!hasLength && !this.noBody) {
      if (this.versionMinor >= 1) {
        this.chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      } else this.keepAlive = false; // HTTP/1.0: the body ends with the connection
    }
    if (!this.keepAlive) head += 'connection: close\r\n';
    else if (this.versionMinor === 0) head += 'connection: keep-alive\r\n';
    this.head = `${head}\r\n`;
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  /** Trailers to send after the last chunk (chunked responses only, as node:http does). */
  addTrailers(t: Record<string, string | string[]>): void {
    for (const k in t) {
      const v = t[k];
      for (const x of Array.isArray(v) ? v : [v]) validHeader(k, x);
    }
    this.trailers = t;
  }

  write(chunk: Buffer): boolean {
    if (this.writableFinished) return true;
    if (!this.headersSent) this.writeHead(200);
    return this.send(chunk, false);
  }

  end(chunk?: Buffer | string): this {
    if (this.writableFinished) return this;
    if (!this.headersSent) this.writeHead(200);
    const body = chunk === undefined ? EMPTY : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.last = true;
    this.send(body, true);
    this.last = false;
    this.writableFinished = true;
    this.conn.responseDone(this);
    this.emit('finish');
    this.emit('close');
    return this;
  }

  endWithHead(status: number, headers: OutHeaders): void {
    this.writeHead(status, headers).end();
  }

  /** Tears the exchange down (after the head was sent there is no other way to say it failed). */
  abort(): void {
    this.conn.destroy();
  }

  /** The connection went away before the response was complete. */
  connectionClosed(): void {
    if (!this.writableFinished) this.emit('close');
  }

  private send(body: Buffer, last: boolean): boolean {
    const head = this.head;
    this.head = '';
    let pre = head;
    let post = '';
    if (this.noBody) body = EMPTY;
    else if (this.chunked) {
      if (body.length > 0) {
        pre += `${body.length.toString(16)}\r\n`;
        post = '\r\n';
      }
      if (last) post += this.trailers ? `0\r\n${trailerLines(this.trailers)}\r\n` : '0\r\n\r\n';
    }
    const total = pre.length + body.length + post.length;
    if (total === 0) return true;
    if (total <= SINGLE_WRITE_LIMIT) {
      // One buffer, one write syscall: head, body and framing together.
      let out: Buffer;
      if (body.length === 0 && post.length === 0) out = Buffer.from(pre, 'latin1');
      else if (pre.length === 0 && post.length === 0) out = body;
      else {
        out = Buffer.allocUnsafe(total);
        let o = out.write(pre, 0, 'latin1');
        o += body.copy(out, o);
        out.write(post, o, 'latin1');
      }
      if (this.last) {
        this.conn.writeLast(out);
        return true;
      }
      return this.conn.write(out);
    }
    if (pre.length > 0) this.conn.write(Buffer.from(pre, 'latin1'));
    const ok = this.conn.write(body);
    return post.length > 0 ? this.conn.write(Buffer.from(post, 'latin1')) : ok;
  }
}

function trailerLines(t: Record<string, string | string[]>): string {
  let s = '';
  for (const k in t) {
    const v = t[k];
    if (Array.isArray(v)) for (const x of v) s += `${k}: ${x}\r\n`;
    else s += `${k}: ${v}\r\n`;
  }
  return s;
}
