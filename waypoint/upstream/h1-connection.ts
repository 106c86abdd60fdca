import { Readable } from 'node:stream';
import type { ReadRelay, ReadSink, UpstreamStream } from '../transport/connector.js';
import { WeftError } from '../../lib/errors/index.js';
import { ChunkedDecoder, type ChunkSink } from '../h1/chunked.js';
import { connectionHas, HEAD_ERROR, HEAD_MORE, HeadParser } from '../h1/head-parser.js';
import { flush, writeLater, type BatchedSocket } from '../h1/write-batch.js';
import { abortError, H1UpstreamResponse, requestHead, type Exchange } from './h1-exchange.js';

// One HTTP/1.1 connection of the waypoint's client to an endpoint (h1-pool.ts keeps them: LIFO reuse, at
// most `maxConnections`, a FIFO queue behind them). A request's head and a buffered body go out in ONE
// write; the response head is parsed incrementally with the same strict parser as the server side, and a
// response whose body came with its head is handed over whole (`complete`) instead of as a stream. A
// request that fails on a reused connection before any response byte (the endpoint closed it while idle)
// is sent once more on a fresh connection when its body can be sent again. A response that breaks
// HTTP/1.1 framing (bad head, ambiguous length, bad chunking, chunk extensions or trailers over their caps
// in h1/chunked.ts) fails its request with ERR_WEFT_WAYPOINT_BAD_RESPONSE, which becomes a 502 when
// nothing of the response went downstream yet; later (body already streaming) the downstream exchange is
// reset.

const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
const SINGLE_WRITE_LIMIT = 64 * 1024;
const EXPECTS_PAYLOAD = new Set(['POST', 'PUT', 'PATCH']);
const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** What a connection needs of the pool that owns it. */
export interface ConnectionOwner {
  /** `address:port`, for errors. */
  readonly label: string;
  /** The connection finished its exchange and can serve another. */
  release(c: H1Connection): void;
  /** The connection is gone. */
  removed(c: H1Connection): void;
  /** Sends an exchange again (on another connection). */
  dispatch(ex: Exchange): void;
}

class ResponseBody extends Readable {
  constructor(private readonly conn: H1Connection) {
    super();
  }

  override _read(): void {
    this.conn.resumeReading();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.conn.bodyDestroyed(this);
    cb(err);
  }
}

const enum State {
  Idle,
  Head,
  Body,
  Done,
}

const enum Framing {
  None,
  Length,
  Chunked,
  Close,
}

export class H1Connection implements ChunkSink, BatchedSocket, ReadSink {
  pending: Buffer | Buffer[] | null = null;
  private readonly parser = new HeadParser('response', MAX_RESPONSE_HEAD_BYTES);
  private decoder: ChunkedDecoder | undefined;
  private ex: Exchange | null = null;
  private state = State.Idle;
  private framing = Framing.None;
  private remaining = 0;
  /** Body parts received with the head, before the response is handed over. */
  private parts: Buffer[] = [];
  private stream: ResponseBody | null = null;
  private reusable = true;
  private requestWritten = false;
  private gotBytes = false;
  private requestBody: Readable | null = null;
  private dead = false;
  requests = 0;
  idleSince = 0;

  private readonly onAbort = (): void => this.fail(abortError(), false);
  private readonly onBodyData = (c: Buffer): void => this.writeBodyChunk(c);
  private readonly onBodyEnd = (): void => this.endRequestBody();
  private readonly onBodyError = (): void => this.fail(new Error('request body failed'), false);
  private readonly onBodyClose = (): void => {
    if (!this.requestWritten && this.requestBody) this.fail(new Error('request body closed early'), false);
  };

  /** Reads come in a buffer that is reused after each one (ReadRelay): body bytes kept are copied. */
  private readonly reusedReads: boolean;

  constructor(
    private readonly pool: ConnectionOwner,
    readonly socket: UpstreamStream,
    relay?: ReadRelay,
  ) {
    this.reusedReads = relay !== undefined;
    if (relay) relay.sink = this;
    // Also for relayed reads: a flowing stream is what emits 'end' at EOF ('data' then never fires).
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('drain', () => this.requestBody?.resume());
    socket.on('end', () => this.onEnd());
    socket.on('error', () => undefined); // 'close' follows
    socket.once('close', () => this.onClose());
  }

  get alive(): boolean {
    return !this.dead;
  }

  send(ex: Exchange): void {
    const r = ex.req;
    if (r.signal?.aborted) {
      ex.reject(abortError());
      this.pool.release(this);
      return;
    }
    this.ex = ex;
    this.state = State.Head;
    this.parser.reset();
    this.parts = [];
    this.stream = null;
    this.reusable = true;
    this.requestWritten = false;
    this.gotBytes = false;
    this.requests++;
    r.signal?.addEventListener('abort', this.onAbort);
    let head: string;
    try {
      head = requestHead(r);
    } catch (err) {
      this.finishExchangeSetup();
      this.ex = null;
      this.state = State.Idle;
      ex.reject(err as Error);
      this.pool.release(this);
      return;
    }
    const body = r.body;
    if (body === null) {
      writeLater(this, Buffer.from(`${head}${EXPECTS_PAYLOAD.has(r.method) && r.headers['content-length'] === undefined ? 'content-length: 0\r\n' : ''}\r\n`, 'latin1'));
      this.requestWritten = true;
    } else if (Buffer.isBuffer(body)) {
      if (r.headers['content-length'] === undefined) head += `content-length: ${body.length}\r\n`;
      head += '\r\n';
      if (head.length + body.length <= SINGLE_WRITE_LIMIT) {
        const out = Buffer.allocUnsafe(head.length + body.length);
        const o = out.write(head, 0, 'latin1');
        body.copy(out, o);
        writeLater(this, out);
      } else {
        this.socket.write(head, 'latin1');
        this.socket.write(body);
      }
      this.requestWritten = true;
    } else {
      const chunked = r.headers['content-length'] === undefined;
      this.remainingBody = chunked ? -1 : Number(r.headers['content-length']);
      flush(this);
      this.socket.write(`${head}${chunked ? 'transfer-encoding: chunked\r\n' : ''}\r\n`, 'latin1');
      this.requestBody = body;
      body.on('data', this.onBodyData);
      body.once('end', this.onBodyEnd);
      body.once('error', this.onBodyError);
      body.once('close', this.onBodyClose);
    }
  }

  /** -1: chunked; else bytes the request body may still carry. */
  private remainingBody = -1;

  private writeBodyChunk(c: Buffer): void {
    if (c.length === 0) return;
    let ok: boolean;
    if (this.remainingBody < 0) ok = this.socket.write(Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`, 'latin1'), c, CRLF]));
    else {
      if (c.length > this.remainingBody) {
        this.fail(new Error('request body longer than its Content-Length'), false);
        return;
      }
      this.remainingBody -= c.length;
      ok = this.socket.write(c);
    }
    if (!ok) this.requestBody?.pause();
  }

  private endRequestBody(): void {
    if (this.remainingBody < 0) this.socket.write(LAST_CHUNK);
    else if (this.remainingBody > 0) {
      this.fail(new Error('request body shorter than its Content-Length'), false);
      return;
    }
    this.detachRequestBody();
    this.requestWritten = true;
    if (this.state === State.Done) this.release();
  }

  private detachRequestBody(): void {
    const b = this.requestBody;
    if (!b) return;
    this.requestBody = null;
    b.off('data', this.onBodyData);
    b.off('end', this.onBodyEnd);
    b.off('error', this.onBodyError);
    b.off('close', this.onBodyClose);
  }

  private finishExchangeSetup(): void {
    this.ex?.req.signal?.removeEventListener('abort', this.onAbort);
  }

  // ChunkSink
  chunkData(data: Buffer): void {
    this.deliver(data);
  }

  resumeReading(): void {
    if (!this.dead) this.socket.resume();
  }

  bodyDestroyed(s: ResponseBody): void {
    // The consumer dropped a body that had not ended: the connection is mid-message, so it goes.
    if (s === this.stream && this.state === State.Body) this.destroy();
  }

  // ReadSink: a relayed read (see ReadRelay); whatever outlives the call is copied (deliver()).
  readBytes(chunk: Buffer): boolean {
    this.onData(chunk);
    return true; // deliver() pauses the socket itself when a body stream is full
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (!ex || this.state === State.Done || this.state === State.Idle) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.destroy();
      return;
    }
    this.gotBytes = true;
    let i = 0;
    let headNow = false;
    while (i < chunk.length && (this.state as State) !== State.Done && !this.dead) {
      if (this.state === State.Head) {
        const r = this.parser.feed(chunk, i);
        if (r === HEAD_MORE) return;
        if (r === HEAD_ERROR) {
          this.fail(this.badResponse(this.parser.error), false);
          return;
        }
        i = r;
        const status = this.parser.status;
        if (status < 200) {
          if (status === 101) {
            this.fail(new Error('the endpoint switched protocols (upgrades are not supported)'), false);
            return;
          }
          this.parser.reset(); // 1xx informational: the real response follows
          continue;
        }
        if (!this.startResponse(ex)) return;
        headNow = true;
      } else if (this.state === State.Body) {
        i = this.readBody(chunk, i);
        if (i < 0) return;
      }
    }
    if (i < chunk.length && (this.state as State) === State.Done) this.reusable = false; // more than one response
    if (headNow) this.handOver(ex);
    if ((this.state as State) === State.Done) this.release();
  }

  private startResponse(ex: Exchange): boolean {
    const p = this.parser;
    const status = p.status;
    const method = ex.req.method;
    if (p.contentLengthCount > 1 || p.contentLength === -2) {
      this.fail(this.badResponse('invalid or repeated Content-Length'), false);
      return false;
    }
    this.reusable = p.versionMinor >= 1 ? !connectionHas(p.connection, 'close') : connectionHas(p.connection, 'keep-alive');
    if (method === 'HEAD' || status === 204 || status === 304) this.framing = Framing.None;
    else if (p.transferEncodingCount > 0) {
      if (p.contentLengthCount > 0) {
        this.fail(this.badResponse('Content-Length with Transfer-Encoding'), false);
        return false;
      }
      const te = p.transferEncoding.toLowerCase();
      if (p.transferEncodingCount === 1 && te.trim() === 'chunked') {
        this.framing = Framing.Chunked;
        (this.decoder ??= new ChunkedDecoder(this)).reset();
      } else {
        this.framing = Framing.Close;
        this.reusable = false;
      }
    } else if (p.contentLengthCount === 1) {
      this.framing = p.contentLength > 0 ? Framing.Length : Framing.None;
      this.remaining = p.contentLength;
    } else {
      this.framing = Framing.Close;
      this.reusable = false;
    }
    ex.response = new H1UpstreamResponse(status, p.headers);
    p.reset();
    this.state = this.framing === Framing.None ? State.Done : State.Body;
    return true;
  }

  /** Consumes body bytes from i; returns the next index, or -1 on error. */
  private readBody(chunk: Buffer, i: number): number {
    if (this.framing === Framing.Length) {
      const take = Math.min(this.remaining, chunk.length - i);
      this.deliver(i === 0 && take === chunk.length ? chunk : chunk.subarray(i, i + take));
      this.remaining -= take;
      if (this.remaining === 0) this.messageDone();
      return i + take;
    }
    if (this.framing === Framing.Chunked) {
      const r = this.decoder!.feed(chunk, i);
      if (r === -2) {
        this.fail(this.badResponse(`malformed chunked body: ${this.decoder!.error}`), false);
        return -1;
      }
      if (r === -1) return chunk.length;
      this.messageDone();
      return r;
    }
    // Close-delimited: everything until the endpoint closes.
    this.deliver(i === 0 ? chunk : chunk.subarray(i));
    return chunk.length;
  }

  private deliver(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // The only place received bytes outlive the read: the head parser copies what it keeps (strings, and
    // a split line), so under a reused read buffer only body bytes need their own copy.
    const data = this.reusedReads ? Buffer.from(bytes) : bytes;
    if (this.stream) {
      if (!this.stream.push(data)) this.socket.pause();
    } else this.parts.push(data);
  }

  private messageDone(): void {
    this.state = State.Done;
    this.stream?.push(null);
  }

  /** Resolves the request with the response: whole when the body is already here, else as a stream. */
  private handOver(ex: Exchange): void {
    const res = ex.response!;
    if (this.state === State.Done) {
      const parts = this.parts;
      res.complete = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts);
    } else {
      const s = (this.stream = new ResponseBody(this));
      for (const p of this.parts) s.push(p);
      res.stream = s;
    }
    this.parts = [];
    ex.resolve(res);
  }

  private release(): void {
    this.finishExchangeSetup();
    if (!this.requestWritten) return; // the request body is still going out; released when it ends
    this.ex = null;
    this.state = State.Idle;
    this.stream = null;
    if (this.reusable && !this.dead) {
      this.socket.resume(); // a body stream may have paused it on its last bytes
      this.pool.release(this);
    } else this.destroy();
  }

  private onEnd(): void {
    if (this.state === State.Body && this.framing === Framing.Close) {
      this.messageDone();
      this.reusable = false;
      this.release();
      return;
    }
    this.fail(new Error('the endpoint closed the connection'), true);
  }

  private onClose(): void {
    if (this.state === State.Body && this.framing === Framing.Close) this.messageDone();
    this.fail(new Error('the endpoint closed the connection'), true);
    this.dead = true;
    this.pool.removed(this);
  }

  private badResponse(reason: string): WeftError {
    return new WeftError('ERR_WEFT_WAYPOINT_BAD_RESPONSE', { endpoint: this.pool.label, reason });
  }

  /** The exchange on this connection failed; a stale reused connection gets one more try elsewhere. */
  private fail(err: Error, mayRetry: boolean): void {
    const ex = this.ex;
    this.ex = null;
    this.detachRequestBody();
    if (ex) {
      ex.req.signal?.removeEventListener('abort', this.onAbort);
      const body = ex.req.body;
      if (!ex.settled && mayRetry && !ex.retried && this.requests > 1 && !this.gotBytes && (body === null || Buffer.isBuffer(body))) {
        ex.retried = true;
        this.destroy();
        this.pool.dispatch(ex);
        return;
      }
      if (!ex.settled) ex.reject(err);
      else if (this.stream && !this.stream.readableEnded && this.state !== State.Done) this.stream.destroy(err);
    }
    this.destroy();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
  }
}
