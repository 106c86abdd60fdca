import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TARGET, TOKEN } from './chars.js';

// An incremental, strict HTTP/1.1 head parser (request line or status line, then header lines) fed with
// socket chunks as they come. Strict like llhttp without its lenient flags: every line ends in CRLF (a
// bare LF or CR is refused), obs-fold is refused, names are tokens with no space before the colon, values
// carry no control bytes, and the head is bounded. The framing headers are collected while parsing so the
// caller can refuse ambiguous messages (CL+TE, duplicate Content-Length) without a second pass.
// One parser lives per connection and is reset between messages: no per-message allocation but the
// strings themselves.

export type HeadKind = 'request' | 'response';

/** Header fields of a message, by lower-case name, with node:http's rules for repeated fields. */
export type HeaderMap = Record<string, string | string[]>;

// node:http keeps only the first of these when repeated (IncomingMessage#_addHeaderLine).
const FIRST_WINS = new Set(['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires']);

// Header names seen on nearly every message, returned as constant (internalised) strings: no decoding, no
// lower-casing, and property lookups by them skip the string-table probe a fresh string needs.
const KNOWN_NAMES = ['host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'content-length', 'content-type', 'connection', 'transfer-encoding', 'expect', 'te', 'cookie', 'authorization', 'cache-control', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'traceparent', 'tracestate', 'origin', 'referer', 'server', 'date', 'keep-alive', 'upgrade', 'location', 'set-cookie', 'etag', 'last-modified', 'vary', 'pragma', 'x-weft-attempt', 'x-forwarded-client-cert', 'grpc-status', 'grpc-message', 'grpc-timeout', 'forwarded', 'if-none-match', 'if-modified-since', 'range', 'content-encoding'];
const NAMES_BY_LENGTH: Array<Array<{ name: string; codes: Uint8Array }>> = [];
for (const name of KNOWN_NAMES) (NAMES_BY_LENGTH[name.length] ??= []).push({ name, codes: Buffer.from(name, 'latin1') });

/** The lower-case header name in buf[s, e) (token bytes only). */
function headerName(buf: Buffer, s: number, e: number): string {
  const list = NAMES_BY_LENGTH[e - s];
  if (list !== undefined) {
    next: for (const k of list) {
      const codes = k.codes;
      for (let i = 0; i < codes.length; i++) {
        let b = buf[s + i];
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        if (b !== codes[i]) continue next;
      }
      return k.name;
    }
  }
  return buf.toString('latin1', s, e).toLowerCase();
}

const MORE = -1;
const ERROR = -2;

export class HeadParser {
  // Request line / status line.
  method = '';
  url = '';
  status = 0;
  versionMinor = 1;
  headers: HeaderMap = {};
  /** Framing facts gathered while parsing. */
  contentLengthCount = 0;
  contentLength = -1;
  transferEncodingCount = 0;
  transferEncoding = '';
  hostCount = 0;
  connection = '';
  expect = '';
  /** Why the head was refused (after feed returned ERROR). */
  error = '';

  private started = false;
  private pending: Buffer | null = null;
  private bytes = 0;

  constructor(
    private readonly kind: HeadKind,
    private readonly maxBytes: number,
  ) {}

  reset(): void {
    this.method = '';
    this.url = '';
    this.status = 0;
    this.versionMinor = 1;
    this.headers = {};
    this.contentLengthCount = 0;
    this.contentLength = -1;
    this.transferEncodingCount = 0;
    this.transferEncoding = '';
    this.hostCount = 0;
    this.connection = '';
    this.expect = '';
    this.error = '';
    this.started = false;
    this.pending = null;
    this.bytes = 0;
  }

  /** True once some byte of a head has been received (for header timeouts). */
  get inProgress(): boolean {
    return this.started || this.pending !== null;
  }

  /**
   * Feeds bytes from `start`. Returns the index in `chunk` just after the head, MORE (-1) when the head is
   * not complete yet (the bytes were consumed), or ERROR (-2) with `error` set.
   */
  feed(chunk: Buffer, start: number): number {
    let buf = chunk;
    let base = start;
    let offset = 0; // index in `chunk` = index in `buf` - offset
    if (this.pending) {
      // A line was split between chunks (rare: heads usually arrive whole): join just that line.
      buf = Buffer.concat([this.pending, chunk.subarray(start)]);
      base = 0;
      offset = this.pending.length - start;
      this.bytes -= this.pending.length; // counted again below
      this.pending = null;
    }
    let lineStart = base;
    for (;;) {
      const nl = buf.indexOf(LF, lineStart);
      if (nl < 0) {
        this.bytes += buf.length - lineStart;
        if (this.bytes > this.maxBytes) return this.fail('header section too large');
        // A CR may only appear right before LF: refuse a bare CR as soon as it is followed by anything.
        const cr = buf.indexOf(CR, lineStart);
        if (cr >= 0 && cr < buf.length - 1) return this.fail('bare CR in the head');
        if (buf.length > lineStart) this.pending = Buffer.from(buf.subarray(lineStart));
        return MORE;
      }
      this.bytes += nl + 1 - lineStart;
      if (this.bytes > this.maxBytes) return this.fail('header section too large');
      if (nl === lineStart || buf[nl - 1] !== CR) return this.fail('line not terminated by CRLF');
      const end = nl - 1; // exclusive end of the line's content
      if (end === lineStart) {
        // Empty line: end of the head (an empty line before the start line is refused like llhttp does).
        if (!this.started) return this.fail('empty line before the start line');
        return nl + 1 - offset;
      }
      const ok = this.started ? this.headerLine(buf, lineStart, end) : this.startLine(buf, lineStart, end);
      if (!ok) return ERROR;
      this.started = true;
      lineStart = nl + 1;
    }
  }

  private fail(reason: string): number {
    this.error = reason;
    return ERROR;
  }

  private bad(reason: string): false {
    this.error = reason;
    return false;
  }

  private startLine(buf: Buffer, s: number, e: number): boolean {
    return this.kind === 'request' ? this.requestLine(buf, s, e) : this.statusLine(buf, s, e);
  }

  private requestLine(buf: Buffer, s: number, e: number): boolean {
    let i = s;
    while (i < e && TOKEN[buf[i]] === 1) i++;
    if (i === s || i >= e || buf[i] !== SP) return this.bad('malformed method');
    this.method = buf.toString('latin1', s, i);
    const t = ++i;
    while (i < e && TARGET[buf[i]] === 1) i++;
    if (i === t || i >= e || buf[i] !== SP) return this.bad('malformed request target');
    this.url = buf.toString('latin1', t, i);
    i++;
    if (e - i !== 8 || !this.version(buf, i)) return this.bad('unsupported HTTP version');
    return true;
  }

  /** `HTTP/1.1` or `HTTP/1.0` at i. */
  private version(buf: Buffer, i: number): boolean {
    // 'HTTP/1.'
    if (buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f || buf[i + 5] !== 0x31 || buf[i + 6] !== 0x2e) return false;
    const minor = buf[i + 7];
    if (minor !== 0x30 && minor !== 0x31) return false;
    this.versionMinor = minor - 0x30;
    return true;
  }

  private statusLine(buf: Buffer, s: number, e: number): boolean {
    // HTTP/1.x SP 3DIGIT [SP reason]
    if (e - s < 12 || !this.version(buf, s) || buf[s + 8] !== SP) return this.bad('malformed status line');
    let status = 0;
    for (let i = s + 9; i < s + 12; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) return this.bad('malformed status code');
      status = status * 10 + d;
    }
    if (status < 100) return this.bad('malformed status code');
    if (e > s + 12 && buf[s + 12] !== SP) return this.bad('malformed status line');
    for (let i = s + 13; i < e; i++) if (FIELD_VALUE[buf[i]] === 0) return this.bad('invalid byte in the reason phrase');
    this.status = status;
    return true;
  }

  private headerLine(buf: Buffer, s: number, e: number): boolean {
    const first = buf[s];
    if (first === SP || first === HTAB) return this.bad('obs-fold line');
    let i = s;
    while (i < e && TOKEN[buf[i]] === 1) i++;
    if (i === s || i >= e || buf[i] !== COLON) return this.bad('malformed header name');
    const nameEnd = i++;
    while (i < e && (buf[i] === SP || buf[i] === HTAB)) i++;
    const vs = i;
    let ve = vs;
    for (; i < e; i++) {
      const b = buf[i];
      if (FIELD_VALUE[b] === 0) return this.bad('invalid byte in a header value');
      if (b !== SP && b !== HTAB) ve = i + 1;
    }
    const name = headerName(buf, s, nameEnd);
    const value = buf.toString('latin1', vs, ve);
    this.add(name, value);
    return true;
  }

  private add(name: string, value: string): void {
    switch (name) {
      case 'content-length': {
        this.contentLengthCount++;
        let n = 0;
        if (value.length === 0 || value.length > 15) n = -1;
        for (let i = 0; i < value.length && n >= 0; i++) {
          const d = value.charCodeAt(i) - 0x30;
          n = d < 0 || d > 9 ? -1 : n * 10 + d;
        }
        // -2 marks an invalid value; the caller refuses it.
        this.contentLength = n < 0 ? -2 : n;
        break;
      }
      case 'transfer-encoding':
        this.transferEncodingCount++;
        this.transferEncoding = value;
        break;
      case 'host':
        this.hostCount++;
        break;
      case 'connection':
        this.connection = this.connection ? `${this.connection}, ${value}` : value;
        break;
      case 'expect':
        this.expect = value;
        break;
    }
    const h = this.headers;
    const cur = h[name];
    if (cur === undefined) h[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(cur)) cur.push(value);
    else if (FIRST_WINS.has(name)) return;
    else h[name] = name === 'cookie' ? `${cur}; ${value}` : `${cur}, ${value}`;
  }
}

export const HEAD_MORE = MORE;
export const HEAD_ERROR = ERROR;

/** True when a Connection header value lists `token` (case-insensitive). */
export function connectionHas(value: string, token: string): boolean {
  if (value.length === 0) return false;
  const v = value.toLowerCase();
  let i = v.indexOf(token);
  while (i >= 0) {
    const before = i === 0 ? 0x2c : v.charCodeAt(i - 1);
    const after = i + token.length >= v.length ? 0x2c : v.charCodeAt(i + token.length);
    const sepBefore = before === 0x2c || before === SP || before === HTAB;
    const sepAfter = after === 0x2c || after === SP || after === HTAB;
    if (sepBefore && sepAfter) return true;
    i = v.indexOf(token, i + 1);
  }
  return false;
}
