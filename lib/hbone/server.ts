import { EventEmitter } from 'node:events';
import { createSecureServer, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { Counter, Gauge } from 'prom-client';
import { WeftError, isWeftError, type RefusalFlag } from '../errors/index.js';
import type { SpiffeId, WorkloadCertificate } from '../identity/index.js';
import { selfTarget } from '../self-target.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { sharedCounter, sharedGauge } from '../telemetry/metrics.js';
import { parseAuthority, parseForwardedFor } from './authority.js';
import { pipeTunnel } from './pipe.js';
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
import type { AcceptedTunnel, AuthorizeResult, HboneServer, HboneServerOptions, RefusedBy, Tunnel, TunnelInfo } from './server-api.js';

const NO_ADDRESSES: readonly string[] = [];

export type { TunnelTarget } from './authority.js';
export type { AcceptedTunnel, AuthorizeResult, HboneServer, HboneServerOptions, RefusedBy, Tunnel, TunnelInfo } from './server-api.js';

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
        sessions: sharedGauge(options.registry, 'weft_hbone_server_sessions', 'HBONE server sessions open'),
        tunnels: sharedGauge(options.registry, 'weft_hbone_server_tunnels', 'HBONE server tunnels open'),
        refused: sharedCounter(options.registry, 'weft_hbone_server_refused_total', 'HBONE connections or tunnels refused, by flag', ['flag']),
        closed: sharedCounter(
          options.registry,
          'weft_hbone_server_session_closes_total',
          'HBONE sessions the server closed: idle (no stream for the idle time) or no_preface (no HTTP/2 preface after TLS)',
          ['reason'],
        ),
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
