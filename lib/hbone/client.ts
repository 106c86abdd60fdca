import { connect as h2connect, constants as h2c, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIPv6 } from 'node:net';
import { WeftError } from '../errors/index.js';
import type { SpiffeId, WorkloadCertificate } from '../identity/index.js';
import type { Logger } from '../telemetry/log.js';
import { ALPN_H2, CONNECTION_WINDOW_BYTES, GOAWAY_TLS_REFUSED, H2_SETTINGS, MAX_SESSION_MEMORY_MB, REASON_HEADER } from './protocol.js';
import { checkServerSpiffeId, clientConnectError, secureContextFor } from './tls.js';
import type { NextHop, SocketFactory } from './socket-factory.js';

/** What makes two tunnels share a session: both identities and the next hop. */
export interface SessionKey {
  readonly source: SpiffeId;
  readonly destination: SpiffeId;
  readonly nextHop: NextHop;
}

export interface SessionOptions extends SessionKey {
  /** Our certificate (for `source`). */
  readonly certificate: WorkloadCertificate;
  /** PEM roots the server's chain must lead to. */
  readonly trustRoots: readonly string[];
  readonly socketFactory: SocketFactory;
  readonly connectTimeoutMs: number;
  /** 0 disables keep-alive PINGs. */
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxStreams: number;
  readonly logger: Logger;
  /** Called once when the session stops taking new streams (GOAWAY, idle, error, close). */
  readonly onRetire: (session: HboneSession) => void;
  /** Called once when the session has closed (after the last stream). */
  readonly onClosed?: () => void;
  /** Called when the number of open streams changes by `delta`. */
  readonly onStreams?: (delta: number) => void;
}

/** One tunnel request on a session. */
export interface TunnelRequest {
  /** `<ip>:<port>` of the original destination (a service VIP:port when sent to a waypoint). */
  readonly authority: string;
  /** Source IP of the original client, sent as `forwarded: for=<ip>`. */
  readonly forwardedFor?: string;
  /** W3C trace context, passed through when present. */
  readonly traceparent?: string;
}

/**
 * One HTTP/2 session over mutual TLS 1.3 to one next hop. The pool owns sessions; a caller takes a stream
 * slot with `reserve()` (synchronously, so concurrent callers never overfill a session) and then `open()`s.
 */
export class HboneSession {
  readonly source: SpiffeId;
  readonly destination: SpiffeId;
  readonly nextHop: NextHop;
  /** Streams reserved or open. */
  private active = 0;
  private retired = false;
  private failure: WeftError | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingSentAt = 0;
  private wentAway = false;
  private readonly peer: string;

  private constructor(
    private readonly session: ClientHttp2Session,
    private readonly options: SessionOptions,
  ) {
    this.source = options.source;
    this.destination = options.destination;
    this.nextHop = options.nextHop;
    this.peer = peerLabel(options.nextHop, options.destination);
    session.on('goaway', this.onGoaway);
    session.on('error', this.onError);
    session.once('close', this.onClose);
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    if (options.pingIntervalMs > 0) {
      this.pingTimer = setInterval(this.onPingTick, options.pingIntervalMs);
      this.pingTimer.unref();
    }
    this.armIdle();
  }

  /** TCP (through the socket factory), TLS 1.3 with both certificates checked, then the HTTP/2 preface. */
  static async connect(options: SessionOptions): Promise<HboneSession> {
    const peer = peerLabel(options.nextHop, options.destination);
    let raw;
    try {
      raw = await options.socketFactory.connect(options.nextHop);
    } catch (err) {
      throw clientConnectError(err, peer);
    }
    raw.setNoDelay(true);
    const tls: TLSSocket = tlsConnect({
      socket: raw,
      secureContext: secureContextFor(options.certificate, options.trustRoots),
      ALPNProtocols: ALPN_H2,
      // No SNI: a SPIFFE ID is not a host name and the server picks its certificate by listener.
      servername: '',
      rejectUnauthorized: true,
      checkServerIdentity: checkServerSpiffeId(options.destination, peer),
    });
    const session = h2connect(`https://${hostPort(options.nextHop)}`, {
      createConnection: () => tls,
      settings: H2_SETTINGS,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    return new Promise<HboneSession>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        fail(new WeftError('ERR_WEFT_HBONE_TIMEOUT', { what: 'HBONE connect', peer, ms: options.connectTimeoutMs }));
      }, options.connectTimeoutMs);
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        tls.destroy();
        raw.destroy();
        reject(clientConnectError(err, peer));
      };
      tls.once('secureConnect', () => {
        if (tls.alpnProtocol !== 'h2')
          fail(new WeftError('ERR_WEFT_HBONE_ALPN', { peer, alpn: String(tls.alpnProtocol) }));
      });
      tls.once('error', fail);
      session.once('error', fail);
      session.once('close', () => {
        fail(new WeftError('ERR_WEFT_HBONE_SESSION_CLOSED', { peer, detail: 'closed while connecting' }));
      });
      session.once('connect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.off('error', fail);
        tls.off('error', fail);
        resolve(new HboneSession(session, options));
      });
    });
  }

  /** The session's TLS socket (the server's chain, for root rotation); undefined once it is gone. */
  get tlsSocket(): TLSSocket | undefined {
    return this.session.destroyed ? undefined : (this.session.socket as TLSSocket);
  }

  /** True while the session takes new streams. */
  get available(): boolean {
    return !this.retired && this.active < this.options.maxStreams && !this.session.destroyed && !this.session.closed;
  }

  /** Streams reserved or open on this session. */
  get streams(): number {
    return this.active;
  }

  /** Takes a stream slot; the caller must `open()` next (which releases it when the stream ends). */
  reserve(): void {
    this.active++;
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (this.active >= this.options.maxStreams) this.options.logger.debug({ peer: this.peer }, 'hbone session full');
  }

  /** Opens a CONNECT stream on a reserved slot; resolves once the server answers 200. */
  open(request: TunnelRequest): Promise<ClientHttp2Stream> {
    this.options.onStreams?.(1);
    let stream: ClientHttp2Stream;
    try {
      if (this.failure !== undefined) throw this.failure;
      stream = this.session.request(connectHeaders(request), { endStream: false });
    } catch (err) {
      this.release();
      return Promise.reject(err instanceof WeftError ? err : this.sessionError(err));
    }
    stream.once('close', this.release);
    return new Promise((resolve, reject) => {
      let settled = false;
      let streamError: unknown;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        stream.close(h2c.NGHTTP2_CANCEL);
        reject(new WeftError('ERR_WEFT_HBONE_TIMEOUT', { what: `CONNECT ${request.authority}`, peer: this.peer, ms: this.options.connectTimeoutMs }));
      }, this.options.connectTimeoutMs);
      // Errors after the tunnel opened belong to whoever reads the stream; this listener only keeps an
      // unhandled stream error from crashing the process.
      const onError = (err: unknown): void => {
        streamError = err;
      };
      const onClose = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // REFUSED_STREAM: the server did not process the stream (RFC 9113 §8.7), e.g. it raced the server's
        // GOAWAY; `refused` lets the pool retry it on another session.
        const refused = stream.rstCode === h2c.NGHTTP2_REFUSED_STREAM;
        reject(
          this.failure ??
            new WeftError('ERR_WEFT_HBONE_STREAM_RESET', {
              peer: this.peer,
              authority: request.authority,
              detail: streamError instanceof Error ? streamError.message : `RST_STREAM ${stream.rstCode ?? '?'}`,
              ...(refused ? { refused: true, sessionRetired: this.retired } : {}),
            }),
        );
      };
      stream.on('error', onError);
      stream.once('response', (headers: IncomingHttpHeaders) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const status = Number(headers[':status']);
        if (status === 200) {
          // An open tunnel lives as long as its connection (thousands idle on a busy node): it keeps no
          // listener that holds this setup's scope (request, timer, promise callbacks), only the shared
          // no-op that still keeps a stream error unhandled by nobody from crashing the process.
          stream.off('close', onClose);
          stream.off('error', onError);
          stream.on('error', ignoreStreamError);
          resolve(stream);
          return;
        }
        stream.close(h2c.NGHTTP2_CANCEL);
        reject(refusal(status, headers, request.authority, this.peer));
      });
      stream.once('close', onClose);
    });
  }

  /** Stops taking streams and closes once the open ones end. */
  close(): void {
    this.retire();
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  /** Closes now, resetting open streams. */
  destroy(err?: WeftError): void {
    if (err) this.failure ??= err;
    this.retire();
    this.session.destroy();
  }

  private readonly release = (): void => {
    this.active--;
    this.options.onStreams?.(-1);
    if (this.active === 0) this.armIdle();
  };

  private armIdle(): void {
    if (this.retired || this.active > 0 || this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(this.onIdle, this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private readonly onIdle = (): void => {
    this.idleTimer = undefined;
    if (this.active > 0) return;
    this.options.logger.debug({ peer: this.peer }, 'hbone session idle, closing');
    this.close();
  };

  private readonly onPingTick = (): void => {
    // After a GOAWAY (the peer agent draining) Node closes the session and its PINGs go unanswered: the
    // keep-alive would destroy the tunnels the peer is letting finish. They end with their own streams.
    if (this.session.destroyed || this.wentAway || this.session.closed) return;
    const now = Date.now();
    if (this.pingSentAt !== 0) {
      if (now - this.pingSentAt >= this.options.pingTimeoutMs) {
        const err = new WeftError('ERR_WEFT_HBONE_SESSION_CLOSED', { peer: this.peer, detail: `PING not answered within ${this.options.pingTimeoutMs} ms` });
        this.options.logger.warn({ err, peer: this.peer }, 'hbone keep-alive failed');
        this.destroy(err);
      }
      return;
    }
    this.pingSentAt = now;
    this.session.ping(this.onPong);
  };

  private readonly onPong = (err: Error | null): void => {
    if (err === null) this.pingSentAt = 0;
  };

  private readonly onGoaway = (code: number, _lastStreamId: number, opaque?: Buffer): void => {
    this.wentAway = true;
    if (code === GOAWAY_TLS_REFUSED) {
      const text = opaque && opaque.length > 0 ? opaque.toString('utf8', 0, Math.min(opaque.length, 512)) : 'no reason given';
      const space = text.indexOf(' ');
      this.failure ??= new WeftError('ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER', {
        peer: this.peer,
        reason: text,
        peerCode: space > 0 ? text.slice(0, space) : text,
      });
    }
    this.retire();
  };

  private readonly onError = (err: Error): void => {
    this.failure ??= this.sessionError(err);
    this.retire();
  };

  private readonly onClose = (): void => {
    this.retire();
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.pingTimer = this.idleTimer = undefined;
    this.options.onClosed?.();
  };

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.options.onRetire(this);
  }

  private sessionError(err: unknown): WeftError {
    return new WeftError('ERR_WEFT_HBONE_SESSION_CLOSED', { peer: this.peer, detail: err instanceof Error ? err.message : String(err) }, { cause: err });
  }
}

/** The error listener an open tunnel keeps until its reader attaches its own (pipe.ts): one for all streams. */
function ignoreStreamError(): void {}

function refusal(status: number, headers: IncomingHttpHeaders, authority: string, peer: string): WeftError {
  const raw = headers[REASON_HEADER];
  const reason = (Array.isArray(raw) ? raw.join('; ') : raw) ?? '(no reason given)';
  const params = { peer, authority, status, reason };
  if (status === 401 || status === 403) return new WeftError('ERR_WEFT_HBONE_DENIED', params);
  if (status === 503) return new WeftError('ERR_WEFT_HBONE_UNAVAILABLE', params);
  return new WeftError('ERR_WEFT_HBONE_REJECTED', params);
}

function connectHeaders(request: TunnelRequest): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': request.authority };
  // RFC 7239: IPv6 addresses are quoted and bracketed.
  if (request.forwardedFor) headers.forwarded = isIPv6(request.forwardedFor) ? `for="[${request.forwardedFor}]"` : `for=${request.forwardedFor}`;
  if (request.traceparent) headers.traceparent = request.traceparent;
  return headers;
}

function hostPort(hop: NextHop): string {
  return isIPv6(hop.host) ? `[${hop.host}]:${hop.port}` : `${hop.host}:${hop.port}`;
}

/** `10.0.0.2:15008 (spiffe://td/ns/a/sa/b)`: what log lines and errors call the peer. */
export function peerLabel(hop: NextHop, identity: SpiffeId): string {
  return `${hostPort(hop)} (${identity.toString()})`;
}
