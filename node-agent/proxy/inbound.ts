import { constants, createSecureServer, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WeftError } from '../../lib/errors/index.js';
import { authorize, policiesFor } from '../authz.js';
import type { ConnectionInfo } from './connections.js';
import { REASON_HEADER, STREAM_WINDOW } from './hbone-pool.js';
import { identityOf, parseAuthority, type PodContext, type ProxyInputs } from './inputs.js';
import { join } from './pipe.js';
import { peerIdentity } from './tls-contexts.js';

/** Streams one HBONE session may have open at once; more are refused by HTTP/2 (REFUSED_STREAM). */
export const MAX_INBOUND_STREAMS = 1000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The pod's HBONE server on 15008: TLS 1.3 with the pod's own certificate, client certificates
 * required and verified against the trust bundle, the peer's SPIFFE ID read once per session, then
 * each CONNECT is authorised (L4 policy) and connected to the app from inside the pod's netns with the
 * client's IP as source. Answers 200 / 400 / 401 / 403 / 503 with a `weft-reason` header.
 */
export class InboundHbone {
  private readonly server: Http2SecureServer;
  private readonly peers = new WeakMap<ServerHttp2Session, { identity: string | undefined; ip: string }>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private contextFor: unknown;

  constructor(
    private readonly inputs: ProxyInputs,
    private readonly pod: PodContext,
  ) {
    this.server = createSecureServer({
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
      minVersion: 'TLSv1.3',
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      settings: { initialWindowSize: STREAM_WINDOW, maxConcurrentStreams: MAX_INBOUND_STREAMS, enableConnectProtocol: false },
    });
    this.server.on('secureConnection', (tls: TLSSocket) => {
      tls.setNoDelay(true);
    });
    this.server.on('session', (session: ServerHttp2Session) => {
      const sock = session.socket as unknown as TLSSocket;
      this.peers.set(session, { identity: peerIdentity(sock), ip: sock.remoteAddress ?? '' });
      session.on('error', () => session.destroy());
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server.on('tlsClientError', (err) => this.inputs.log.debug({ err, pod: pod.name }, 'HBONE TLS handshake refused'));
    this.server.on('sessionError', () => undefined);
  }

  /** Feeds connections accepted on the pod's 15008 listener into the TLS server. */
  attach(listener: Server): void {
    listener.on('connection', (socket: Socket) => {
      socket.on('error', () => socket.destroy());
      this.ensureContext().then(
        () => this.server.emit('connection', socket),
        (err: unknown) => {
          this.inputs.log.warn({ err, pod: `${this.pod.namespace}/${this.pod.name}` }, 'no certificate for HBONE server; refusing');
          socket.destroy();
        },
      );
    });
  }

  /** Stops serving: live sessions end too (the pod was released; its tunnels must not linger). */
  close(): void {
    this.server.close();
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
  }

  /** Installs the pod's current certificate in the TLS server (first use and after renewal). */
  private async ensureContext(): Promise<void> {
    const w = this.pod.workload();
    if (!w) throw new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${this.pod.namespace}/${this.pod.name}`, reason: 'workload not known yet' });
    const m = await this.inputs.tls.material(this.inputs.tls.identityOf(w.namespace, w.serviceAccount));
    if (m.version !== this.contextFor) {
      this.server.setSecureContext({ cert: m.cert, key: m.key, ca: m.ca, minVersion: 'TLSv1.3' });
      this.contextFor = m.version;
    }
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => stream.destroy());
    const peer = this.peers.get(stream.session as ServerHttp2Session) ?? { identity: undefined, ip: '' };
    const dstW = this.pod.workload();
    const td = this.inputs.tls.trustDomain;
    const target = parseAuthority(headers[constants.HTTP2_HEADER_AUTHORITY] as string | undefined);
    const srcW = this.inputs.view.workloadByIp(peer.ip);
    const info: ConnectionInfo = {
      reporter: 'destination',
      direction: 'inbound',
      podUid: this.pod.uid,
      srcIp: peer.ip,
      srcWorkload: srcW?.name ?? 'unknown',
      srcNamespace: srcW?.namespace ?? 'unknown',
      srcIdentity: peer.identity ?? 'unknown',
      dst: target ? `${target.address}:${target.port}` : String(headers[constants.HTTP2_HEADER_AUTHORITY] ?? ''),
      dstWorkload: dstW?.name ?? this.pod.name,
      dstNamespace: this.pod.namespace,
      dstIdentity: dstW ? identityOf(td, dstW) : 'unknown',
      path: 'hbone',
      dstPort: target?.port ?? 0,
    };
    if (headers[constants.HTTP2_HEADER_METHOD] !== 'CONNECT') {
      return this.refuse(stream, info, new WeftError('ERR_WEFT_AGENT_BAD_REQUEST', { reason: `method ${String(headers[constants.HTTP2_HEADER_METHOD])}, want CONNECT` }));
    }
    if (!target) {
      return this.refuse(stream, info, new WeftError('ERR_WEFT_AGENT_BAD_REQUEST', { reason: `bad :authority ${String(headers[constants.HTTP2_HEADER_AUTHORITY])}` }));
    }
    if (!this.pod.ips.includes(target.address)) {
      return this.refuse(stream, info, new WeftError('ERR_WEFT_AGENT_UNKNOWN_DESTINATION', { address: info.dst }));
    }
    if (!dstW) {
      return this.refuse(stream, info, new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${this.pod.namespace}/${this.pod.name}`, reason: 'workload not known yet' }));
    }
    const decision = authorize(policiesFor(this.inputs.view, dstW), { sourceIdentity: peer.identity, sourceIp: peer.ip, port: target.port });
    if (!decision.allowed) {
      return this.refuse(
        stream,
        info,
        new WeftError('ERR_WEFT_AGENT_DENIED', { source: info.srcIdentity, destination: info.dstIdentity, policy: decision.policy ?? '-' }),
        decision.policy,
      );
    }
    const up = this.pod.factory.connect(target.address, target.port, { sourceAddress: peer.ip });
    up.setNoDelay(true);
    const fail = (err: Error): void => {
      this.refuse(stream, info, new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address: info.dst, reason: err.message }));
    };
    up.once('error', fail);
    up.once('connect', () => {
      up.off('error', fail);
      if (stream.destroyed) {
        up.destroy();
        return;
      }
      stream.respond({ [constants.HTTP2_HEADER_STATUS]: 200 });
      this.inputs.connections.track(info, stream, up, () => [up.bytesWritten, up.bytesRead]);
      join(stream, up);
    });
  }

  private refuse(stream: ServerHttp2Stream, info: ConnectionInfo, err: WeftError, policy?: string): void {
    const flag = err.flag ?? 'ERROR';
    this.inputs.connections.refused(info, flag, err.message, policy);
    // A stream reset before respond() is normal (the client gave up): respond() would throw.
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ [constants.HTTP2_HEADER_STATUS]: err.http ?? 503, [REASON_HEADER]: `${flag}: ${err.message}` }, { endStream: true });
  }
}
