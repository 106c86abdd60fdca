import { Readable } from 'node:stream';
import type { Headers, UpstreamCallback, UpstreamRequest, UpstreamResponse } from './exchange.js';
import { isFieldValue, isToken, TARGET } from '../h1/chars.js';

// One request of the HTTP/1.1 client (h1-pool.ts, h1-connection.ts): the exchange a caller waits on, the
// response it gets, and the request head as it goes on the wire.

export class Exchange {
  retried = false;
  settled = false;
  response: H1UpstreamResponse | undefined;
  /** Removes a queued exchange when its signal fires. */
  onQueuedAbort: (() => void) | undefined;

  constructor(
    readonly req: UpstreamRequest,
    private readonly cb: UpstreamCallback,
  ) {}

  resolve(r: H1UpstreamResponse): void {
    this.settled = true;
    this.cb(null, r);
  }

  reject(e: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.cb(e, undefined);
  }
}

/** An HTTP/1.1 response: whole (`complete`) when its body came with its head, else streamed. */
export class H1UpstreamResponse implements UpstreamResponse {
  readonly endStream = false;
  complete: Buffer | undefined;
  stream: Readable | undefined;

  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {}

  get body(): Readable {
    if (!this.stream) {
      // Only mirrors and tests read a complete body as a stream.
      const r = new Readable({ read() {} });
      if (this.complete && this.complete.length > 0) r.push(this.complete);
      r.push(null);
      return r;
    }
    return this.stream;
  }

  trailers(): Headers | undefined {
    return undefined;
  }

  discard(): void {
    if (this.stream && !this.stream.readableEnded) this.stream.destroy();
  }
}

export function abortError(): Error {
  const e = new Error('request aborted');
  e.name = 'AbortError';
  return e;
}

/** The request head without its final empty line; throws on a value that would inject a header. */
export function requestHead(r: UpstreamRequest): string {
  const path = r.path;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c > 0xff || TARGET[c] === 0) throw new Error('invalid character in the request path');
  }
  if (!isToken(r.method)) throw new Error('invalid request method');
  if (!isFieldValue(r.authority)) throw new Error('invalid authority');
  let head = `${r.method} ${path} HTTP/1.1\r\nhost: ${r.authority}\r\n`;
  const h = r.headers;
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k === 'host') continue;
    if (!isToken(k)) throw new Error(`invalid header name "${k}"`);
    if (typeof v === 'string') {
      if (!isFieldValue(v)) throw new Error(`invalid value for header "${k}"`);
      head += `${k}: ${v}\r\n`;
    } else {
      for (const x of v) {
        if (!isFieldValue(x)) throw new Error(`invalid value for header "${k}"`);
        head += `${k}: ${x}\r\n`;
      }
    }
  }
  return head;
}

