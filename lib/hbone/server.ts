import { EventEmitter } from 'node:events';
import { createSecureServer, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import { Gauge, Counter, type Registry } from 'prom-client';
import { WeftError, isWeftError, type RefusalFlag } from '../errors/index.js';
import type { SpiffeId, WorkloadCertificate } from '../identity/index.js';
import { selfTarget } from '../self-target.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { parseAuthority, parseForwardedFor, type TunnelTarget } from './authority.js';
import { pipeTunnel, type TunnelResult } from './pipe.js';
import {
  ALPN_H2,
  CONNECTION_WINDOW_BYTES,
  FLAG_HEADER,
  GOAWAY_TLS_REFUSED,
  H2_SETTINGS,
  IDLE_TIMEOUT_MS,
  MAX_SESSION_MEMORY_MB,
  REASON_HEADER,
  SERVER_MAX_CONCURRENT_STREAMS,
} from './protocol.js';
import { SessionIdle, type SessionCloseReason } from './session-idle.js';
import { closeUntrustedPeers } from './peer-trust.js';
import { sameRoots, secureContextFor, spiffeIdOf, verifyError } from './tls.js';

const NO_ADDRESSES: readonly string[] = [];

export type { TunnelTarget } from './authority.js';

/** What the server knows about a tunnel request. */
export interface TunnelInfo {
  /** The client's SPIFFE ID, read once per TLS session (null only for a session without identity). */
  readonly peer: SpiffeId | null;
  readonly target: TunnelTarget;
  /** Original client IP from `forwarded: for=`. */
  readonly forwardedFor: string | undefined;
  readonly traceparent: string | undefined;
  /** TCP peer of the HBONE connection (the source node agent or waypoint). */
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

/**
 * One tunnel as it flows through the hooks: `authorize` returns the context (what it looked up to decide:
 * the destination's connection record, the resolved Service, ...), `connectUpstream` and `onTunnel` get it
 * back with the tunnel, so no hook repeats a lookup or keeps a side table keyed by the tunnel.
 */
export interface Tunnel<C> extends TunnelInfo {
  readonly context: C;
}

/** A tunnel answered 200; `upstream` is what `connectUpstream` made (undefined without that hook). */
export interface AcceptedTunnel<C, U extends Duplex = Duplex> extends Tunnel<C> {
  readonly upstream: U | undefined;
}

/**
 * The `authorize` hook's answer. A refusal is a coded error (its `http` status and `flag` go into the reply),
 * or a bare status and reason (coded ERR_WEFT_HBONE_DENIED for 401/403, ERR_WEFT_HBONE_UNAVAILABLE for 503).
 */
/** Who decided a refusal: the server itself (TLS, method, authority, self-target) or a hook. */
export type RefusedBy = 'server' | 'authorize' | 'connectUpstream';

export type AuthorizeResult<C = undefined> =
  | (undefined extends C ? { readonly allow: true; readonly context?: C } : { readonly allow: true; readonly context: C })
  | { readonly allow: false; readonly status: 401 | 403 | 503; readonly reason: string }
  | { readonly allow: false; readonly error: WeftError };

interface HboneServerBaseOptions<C, U extends Duplex> {
  /** The listener's certificate (for the destination workload's identity). `setCertificate` swaps it. */
  readonly certificate: WorkloadCertificate;
  /** Picks another certificate when a client sends SNI (none of weft's clients do; for shared listeners). */
  readonly certificateFor?: (ctx: { servername: string }) => WorkloadCertificate | Promise<WorkloadCertificate>;
  /** PEM roots client chains must lead to. `setTrustRoots` swaps them (root rotation). */
  readonly trustRoots: readonly string[];
  /** Connects to the destination before answering: failure answers 503 (unreachable destination). */
  readonly connectUpstream?: (target: TunnelTarget, tunnel: Tunnel<C>) => Promise<U>;
  /** Gets each tunnel after `200` was sent. Without it, the server pipes the tunnel to `upstream` itself. */
  readonly onTunnel?: (stream: ServerHttp2Stream, tunnel: AcceptedTunnel<C, U>) => void;
  /** Called when a tunnel the server piped itself ends, with byte counts (accounting, access log). */
  readonly onTunnelClosed?: (tunnel: AcceptedTunnel<C, U>, result: TunnelResult) => void;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** TLS handshakes that take longer are dropped (default 10 s); so are sessions whose HTTP/2 preface does not follow within the same time. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Ports of this process's own listeners (HBONE, capture). When given, a CONNECT to one of them on the
   * address the session came in on (or on `ownAddresses()`), or to any loopback or unspecified address,
   * is refused with 403 SELF_CALL before `authorize`: serving it would make the process connect to itself,
   * hop after hop. Without it no target is refused here (tests tunnel to loopback backends).
   */
  readonly ownPorts?: readonly number[];
  /** Further addresses the process's listeners are reachable on (a pod's IPs). */
  readonly ownAddresses?: () => readonly string[];
  /** A session with no open stream for this long is closed: GOAWAY, then close (default 5 min, like the client pool; 0 never). */
  readonly sessionIdleMs?: number;
}

type AuthorizeHook<C> = (peer: SpiffeId | null, target: TunnelTarget, info: TunnelInfo) => AuthorizeResult<C> | Promise<AuthorizeResult<C>>;

/**
 * `C` is the per-tunnel context `authorize` returns; a server whose context is not optional must have
 * `authorize` (nothing else could make one). `U` is the upstream type `connectUpstream` makes.
 */
export type HboneServerOptions<C = undefined, U extends Duplex = Duplex> = HboneServerBaseOptions<C, U> &
  (undefined extends C
    ? { /** Policy hook; default allows every authenticated peer. A throw answers 503. */ readonly authorize?: AuthorizeHook<C> }
    : { /** Policy hook; its context flows to `connectUpstream` and `onTunnel`. A throw answers 503. */ readonly authorize: AuthorizeHook<C> });

/**
 * Events: `refused` (err: WeftError, remoteAddress, by: RefusedBy) for every TLS/identity refusal and every
 * non-200; `by` says whether the server decided it or one of the hooks (which may have recorded it already).
 */
export interface HboneServer extends EventEmitter {
  /** Listens on a port (`listen(15008, '0.0.0.0')`) or adopts a listening fd (`listen({ fd })`). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  listen(handle: { fd: number }): Promise<AddressInfo>;
  /** Serves the connections of an existing listening net.Server (e.g. one made inside a pod netns). */
  attach(server: NetServer): void;
  /** Serves one connection accepted elsewhere (TLS is done here); after `close` it is destroyed. */
  serve(socket: Socket): void;
  address(): AddressInfo | null;
  setCertificate(certificate: WorkloadCertificate): void;
  setTrustRoots(roots: readonly string[]): void;
  /** Stops accepting; open tunnels get `graceMs` (default 5 s) to finish, then are reset. */
  close(options?: { graceMs?: number }): Promise<void>;
  stats(): { sessions: number; tunnels: number };
}

const MAX_REASON = 256;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export function createHboneServer<C = undefined, U extends Duplex = Duplex>(options: HboneServerOptions<C, U>): HboneServer {
  return new HboneServerImpl<C, U>(options);
}

class HboneServerImpl<C, U extends Duplex> extends EventEmitter implements HboneServer {
  private readonly h2: Http2SecureServer;
  private readonly log: Logger;
  private certificate: WorkloadCertificate;
  private roots: readonly string[];
  // The peer identity, read once per TLS session (not per stream: that cost 3× on new-connection latency).
  private readonly peers = new WeakMap<Http2Session, SpiffeId>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly attached = new Map<NetServer, (s: Socket) => void>();
  private tunnels = 0;
  private closing = false;
  private readonly metrics: { sessions: Gauge; tunnels: Gauge; refused: Counter<'flag'>; closed: Counter<'reason'> } | undefined;
  private readonly idle: SessionIdle;
  private readonly ownPorts: ReadonlySet<number> | undefined;

  constructor(private readonly options: HboneServerOptions<C, U>) {
    super();
    if (!options.onTunnel && !options.connectUpstream) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'createHboneServer needs onTunnel or connectUpstream' });
    this.log = (options.logger ?? silentLogger).child({ component: 'hbone.server' });
    this.certificate = options.certificate;
    this.roots = options.trustRoots;
    this.ownPorts = options.ownPorts ? new Set(options.ownPorts) : undefined;
    const certificateFor = options.certificateFor;
    this.h2 = createSecureServer({
      ...this.tlsOptions(),
      // Verified by us after the handshake so that the refusal names the exact reason (expired, unknown CA,
      // ...) in our log and in the GOAWAY the client receives; nothing is read from an unverified session.
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ALPN_H2,
      allowHTTP1: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      unknownProtocolTimeout: 1000,
      settings: { ...H2_SETTINGS, maxConcurrentStreams: SERVER_MAX_CONCURRENT_STREAMS },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      SNICallback: certificateFor
        ? (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
            Promise.resolve(certificateFor({ servername })).then(
              (cert) => cb(null, secureContextFor(cert, this.roots)),
              (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
            );
          }
        : undefined,
    });
    this.h2.on('session', this.onSession);
    this.h2.on('stream', this.onStream);
    this.h2.on('tlsClientError', this.onTlsClientError);
    this.h2.on('sessionError', this.onSessionError);
    this.h2.on('unknownProtocol', (socket: TLSSocket) => {
      this.log.debug({ remote: socket.remoteAddress, alpn: socket.alpnProtocol }, 'hbone client without ALPN h2; closing');
      socket.destroy();
    });
    this.h2.on('error', (err: Error) => this.log.error({ err }, 'hbone server error'));
    if (options.registry) {
      this.metrics = {
        sessions: gauge(options.registry, 'weft_hbone_server_sessions', 'HBONE server sessions open'),
        tunnels: gauge(options.registry, 'weft_hbone_server_tunnels', 'HBONE server tunnels open'),
        refused: counter(options.registry, 'weft_hbone_server_refused_total', 'HBONE connections or tunnels refused, by flag'),
        closed: closesCounter(options.registry),
      };
    }
    this.idle = new SessionIdle({ idleMs: options.sessionIdleMs ?? IDLE_TIMEOUT_MS, prefaceMs: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS, onClose: this.onIdleClose });
  }

  listen(portOrHandle: number | { fd: number }, host?: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.h2.once('error', reject);
      const done = (): void => {
        this.h2.off('error', reject);
        resolve(this.h2.address() as AddressInfo);
      };
      if (typeof portOrHandle === 'number') this.h2.listen(portOrHandle, host, done);
      else this.h2.listen(portOrHandle, done);
    });
  }

  attach(server: NetServer): void {
    const onConnection = (socket: Socket): void => this.serve(socket);
    server.on('connection', onConnection);
    this.attached.set(server, onConnection);
  }

  serve(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // tls.Server's own 'connection' handler wraps the socket in TLS exactly as for its own listener.
    this.h2.emit('connection', socket);
  }

  address(): AddressInfo | null {
    return this.h2.address() as AddressInfo | null;
  }

  setCertificate(certificate: WorkloadCertificate): void {
    this.certificate = certificate;
    this.h2.setSecureContext(this.tlsOptions());
  }

  setTrustRoots(roots: readonly string[]): void {
    if (sameRoots(roots, this.roots)) return;
    this.roots = roots;
    this.h2.setSecureContext(this.tlsOptions());
    // A root left the bundle: sessions whose client is only under it end gracefully (peer-trust.ts).
    void closeUntrustedPeers(this.sessions, (s) => (s.destroyed ? undefined : (s.socket as TLSSocket)), roots, (s) => s.close()).then(
      (n) => n > 0 && this.log.info({ closed: n }, 'closed HBONE sessions whose client chains to no root still trusted'),
      (err: unknown) => this.log.warn({ err }, 'checking HBONE sessions against the new trust roots failed'),
    );
  }

  stats(): { sessions: number; tunnels: number } {
    return { sessions: this.sessions.size, tunnels: this.tunnels };
  }

  async close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing = true;
    for (const [server, fn] of this.attached) server.off('connection', fn);
    this.attached.clear();
    const closed = new Promise<void>((resolve) => {
      if (this.h2.listening) this.h2.close(() => resolve());
      else resolve();
    });
    for (const s of this.sessions) if (!s.closed) s.close();
    const grace = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, options.graceMs ?? 5000);
    grace.unref();
    await closed;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.sessions.size === 0) resolve();
        else setTimeout(check, 20).unref();
      };
      check();
    });
    clearTimeout(grace);
  }

  private tlsOptions(): { cert: string; key: string; ca: string[] | undefined; minVersion: 'TLSv1.3'; maxVersion: 'TLSv1.3' } {
    return {
      cert: this.certificate.certChainPem.join('\n'),
      key: this.certificate.keyPem,
      ca: this.roots.length > 0 ? [...this.roots] : undefined,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    };
  }

  private readonly onSession = (session: ServerHttp2Session): void => {
    this.sessions.add(session);
    this.metrics?.sessions.inc();
    session.on('error', this.onSessionError);
    session.once('close', () => {
      this.sessions.delete(session);
      this.metrics?.sessions.dec();
    });
    const socket = session.socket as TLSSocket;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let identity: SpiffeId | WeftError;
    if (!socket.authorized) {
      const cert = socket.getPeerX509Certificate();
      identity =
        cert === undefined
          ? new WeftError('ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT', { peer: remote })
          : verifyError(String(socket.authorizationError), 'client', remote);
    } else {
      identity = spiffeIdOf(socket.getPeerX509Certificate(), remote);
    }
    if (isWeftError(identity)) {
      this.refuseSession(session, identity, remote);
      return;
    }
    this.peers.set(session, identity);
    if (this.closing) {
      session.close();
      return;
    }
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    this.idle.track(session);
  };

  private readonly onIdleClose = (reason: SessionCloseReason, session: ServerHttp2Session): void => {
    const socket = session.socket as TLSSocket | undefined;
    const remote = `${socket?.remoteAddress}:${socket?.remotePort}`;
    const peer = this.peers.get(session)?.toString();
    if (reason === 'idle') this.log.debug({ remote, peer }, 'hbone session idle, closing');
    else this.log.warn({ remote, peer, ms: this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS }, 'hbone peer sent no HTTP/2 preface after the TLS handshake; closing');
    this.metrics?.closed.inc({ reason });
  };

  private refuseSession(session: ServerHttp2Session, err: WeftError, remote: string): void {
    this.log.warn({ err, remote, flag: err.flag }, 'hbone client refused');
    this.metrics?.refused.inc({ flag: err.flag ?? 'TLS' });
    this.emit('refused', err, remote, 'server' satisfies RefusedBy);
    // After TLS 1.3 the client already thinks the handshake succeeded; the GOAWAY tells it why it was
    // refused (its opaque data is `<code> <message>`).
    try {
      session.goaway(GOAWAY_TLS_REFUSED, 0, Buffer.from(`${err.code} ${err.message}`.slice(0, 512)));
    } catch {
      // already closing
    }
    session.destroy();
  }

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    stream.on('error', this.onStreamError);
    this.idle.streamOpened(stream);
    void this.handleStream(stream, headers).catch((err: unknown) => {
      this.log.error({ err }, 'hbone stream handling failed');
      this.reply(stream, 503, 'internal error', 'CONNECT');
      stream.destroy();
    });
  };

  private async handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const session = stream.session;
    const peer = session === undefined ? undefined : this.peers.get(session);
    const socket = session?.socket;
    const remote = socket?.remoteAddress;
    if (peer === undefined) {
      this.refuseStream(stream, 401, new WeftError('ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT', { peer: String(remote) }), remote);
      return;
    }
    const method = headers[':method'];
    if (method !== 'CONNECT') {
      this.refuseStream(stream, 405, new WeftError('ERR_WEFT_HBONE_METHOD_NOT_ALLOWED', { method: String(method) }), remote);
      return;
    }
    const target = parseAuthority(headers[':authority']);
    if (target === undefined) {
      this.refuseStream(stream, 400, new WeftError('ERR_WEFT_HBONE_BAD_AUTHORITY', { authority: String(headers[':authority']).slice(0, 80) }), remote);
      return;
    }
    if (this.ownPorts !== undefined) {
      const why = selfTarget(target.host, target.port, this.ownPorts, socket?.localAddress, this.options.ownAddresses ?? NO_ADDRESSES);
      if (why !== undefined) {
        this.refuseStream(stream, 403, new WeftError('ERR_WEFT_HBONE_SELF_TARGET', { authority: target.authority, reason: why }), remote);
        return;
      }
    }
    const tp = headers.traceparent;
    const info: TunnelInfo = {
      peer,
      target,
      forwardedFor: parseForwardedFor(headers.forwarded),
      traceparent: typeof tp === 'string' ? tp : undefined,
      remoteAddress: remote,
      localAddress: socket?.localAddress,
      localPort: socket?.localPort,
    };
    let verdict: AuthorizeResult<C> = { allow: true } as AuthorizeResult<C>;
    if (this.options.authorize) {
      try {
        verdict = await this.options.authorize(peer, target, info);
      } catch (err) {
        this.log.error({ err, peer: peer.toString(), authority: target.authority }, 'hbone authorize hook failed');
        verdict = { allow: false, status: 503, reason: 'authorization failed' };
      }
    }
    if (!verdict.allow) {
      if ('error' in verdict) {
        const e = verdict.error;
        this.refuseStream(stream, e.http ?? 403, e, remote, 'authorize', `${e.flag ?? 'CONNECT'}: ${e.message}`);
        return;
      }
      const code = verdict.status === 503 ? 'ERR_WEFT_HBONE_UNAVAILABLE' : 'ERR_WEFT_HBONE_DENIED';
      const err = new WeftError(code, { peer: peer.toString(), authority: target.authority, status: verdict.status, reason: verdict.reason });
      this.refuseStream(stream, verdict.status, err, remote, 'authorize', verdict.reason);
      return;
    }
    // Without `authorize` (or with one that returned none) the context is undefined, which the option types
    // allow only when C admits undefined.
    const tunnel: Tunnel<C> = { ...info, context: verdict.context as C };
    if (stream.destroyed) return; // the client reset while we were deciding: normal
    let upstream: U | undefined;
    if (this.options.connectUpstream) {
      try {
        upstream = await this.options.connectUpstream(target, tunnel);
      } catch (err) {
        const detail = (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.message : String(err));
        const reason = `destination ${target.authority} unreachable: ${detail}`;
        const e = new WeftError('ERR_WEFT_HBONE_UNAVAILABLE', { peer: peer.toString(), authority: target.authority, reason });
        this.refuseStream(stream, 503, e, remote, 'connectUpstream', reason);
        return;
      }
      if (stream.destroyed) {
        upstream.destroy();
        return;
      }
    }
    const accepted: AcceptedTunnel<C, U> = { ...tunnel, upstream };
    stream.respond({ ':status': 200 });
    this.tunnels++;
    this.metrics?.tunnels.inc();
    stream.once('close', this.onTunnelClose);
    if (this.options.onTunnel) {
      this.options.onTunnel(stream, accepted);
    } else if (upstream) {
      const done = this.options.onTunnelClosed;
      void pipeTunnel(stream, upstream).then((result) => done?.(accepted, result));
    }
  }

  private readonly onTunnelClose = (): void => {
    this.tunnels--;
    this.metrics?.tunnels.dec();
  };

  private refuseStream(stream: ServerHttp2Stream, status: number, err: WeftError, remote: string | undefined, by: RefusedBy = 'server', reason = err.message): void {
    this.log.debug({ err, remote, status }, 'hbone tunnel refused');
    this.metrics?.refused.inc({ flag: err.flag ?? 'CONNECT' });
    this.emit('refused', err, remote, by);
    this.reply(stream, status, reason, err.flag ?? 'CONNECT');
  }

  private reply(stream: ServerHttp2Stream, status: number, reason: string, flag: RefusalFlag): void {
    // A reset can come at any time; respond() on a destroyed stream throws ERR_HTTP2_INVALID_STREAM.
    if (stream.destroyed || stream.headersSent) return;
    try {
      stream.respond({ ':status': status, [REASON_HEADER]: headerSafe(reason), [FLAG_HEADER]: flag }, { endStream: true });
    } catch (err) {
      this.log.debug({ err }, 'hbone reply failed (stream gone)');
    }
  }

  private readonly onStreamError = (err: Error): void => {
    this.log.debug({ err }, 'hbone stream error');
  };

  private readonly onSessionError = (err: Error): void => {
    this.log.debug({ err }, 'hbone session error');
  };

  private readonly onTlsClientError = (err: Error, socket: TLSSocket): void => {
    this.log.debug({ err, remote: socket.remoteAddress }, 'hbone TLS handshake failed');
    this.metrics?.refused.inc({ flag: 'TLS' });
  };
}

// Header values must be visible ASCII; a reason from a policy name or an errno must never break the reply.
function headerSafe(reason: string): string {
  const s = reason.length > MAX_REASON ? reason.slice(0, MAX_REASON) : reason;
  return s.replace(/[^\x20-\x7e]/g, '?');
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Gauge ? existing : new Gauge({ name, help, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string): Counter<'flag'> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Counter ? existing : new Counter({ name, help, labelNames: ['flag'], registers: [registry] });
}

function closesCounter(registry: Registry): Counter<'reason'> {
  const name = 'weft_hbone_server_session_closes_total';
  const existing = registry.getSingleMetric(name);
  const help = 'HBONE sessions the server closed: idle (no stream for the idle time) or no_preface (no HTTP/2 preface after TLS)';
  return existing instanceof Counter ? existing : new Counter({ name, help, labelNames: ['reason'], registers: [registry] });
}

