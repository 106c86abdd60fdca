import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WeftError } from '../../lib/errors/index.js';
import { HBONE_PORT, createHboneServer, pipeTunnel, type AuthorizeResult, type HboneServer, type TunnelInfo, type TunnelTarget } from '../../lib/hbone/index.js';
import { POLICY_DENIED_REASON } from '../../lib/authz/index.js';
import type { SpiffeId, WorkloadCertificate } from '../../lib/identity/index.js';
import type { ConnectionInfo } from './connections.js';
import { identityOf, type PodContext, type ProxyInputs } from './inputs.js';
import { AGENT_POD_PORTS } from './self-call.js';
import { workloadLabelOf } from '../../lib/model/index.js';

/**
 * The pod's HBONE server on 15008: lib/hbone's server (mutual TLS 1.3 with the pod's certificate, peer
 * SPIFFE ID read once per session, 1000 streams per session) fed by the listener made inside the pod's
 * netns. Each CONNECT is authorised here (L4 policy; refusals carry `x-weft-reason: <FLAG>: <message>`, a
 * policy refusal only `DENY: policy_denied`)
 * and connected to the app from inside the pod's netns with the client's IP as source.
 */
export class InboundHbone {
  private server: HboneServer | undefined;
  // lib/hbone serves the connections of a net.Server it is attached to; this one never listens: it only
  // relays the pod listener's connections once the pod's certificate is known (it may not be at start).
  private readonly relay: Server = createServer();
  private certificate: WorkloadCertificate | undefined;
  private roots: readonly string[] | undefined;
  private readonly pending = new WeakMap<TunnelInfo, ConnectionInfo>();
  private readonly tunnels = new WeakMap<Duplex, ConnectionInfo>();
  private closed = false;

  constructor(
    private readonly inputs: ProxyInputs,
    private readonly pod: PodContext,
  ) {
    inputs.tls.on('roots', this.onRoots);
  }

  /** Root rotation: new roots apply to the next handshake, and sessions under a removed root close. */
  private readonly onRoots = (roots: readonly string[]): void => {
    if (this.server === undefined || this.closed) return;
    this.server.setTrustRoots(roots);
    this.roots = roots;
  };

  /** Feeds connections accepted on the pod's 15008 listener into the HBONE server. */
  attach(listener: Server): void {
    listener.on('connection', (socket: Socket) => {
      socket.on('error', () => socket.destroy());
      if (!this.inputs.limits.admit(this.pod.uid, socket, 'hbone-session')) return;
      socket.setNoDelay(true);
      // The pod listener allows half-open sockets (for apps); an HBONE session ends with its TCP
      // connection, else a killed peer agent's session lingers until a PING fails.
      socket.allowHalfOpen = false;
      // Before the first state and certificates (agent restart) the pod's certificate may be unknown:
      // the gate holds the connection instead of refusing it.
      if (this.inputs.gate) this.inputs.gate.admit(socket, this.serve);
      else this.serve(socket);
    });
  }

  private readonly serve = (socket: Socket): void => {
    this.ensureServer()
      .then(
        () => {
          if (this.closed) socket.destroy();
          else this.relay.emit('connection', socket);
        },
        (err: unknown) => {
          this.inputs.log.warn({ err, pod: `${this.pod.namespace}/${this.pod.name}` }, 'no certificate for HBONE server; refusing');
          socket.destroy();
        },
      )
      // A throw while handing the socket over would be an unhandled rejection, which ends the process.
      .catch((err: unknown) => {
        this.inputs.log.error({ err, pod: `${this.pod.namespace}/${this.pod.name}` }, 'HBONE connection setup failed');
        socket.destroy();
      });
  };

  /**
   * Stops serving. By default live sessions end too (the pod was released; its tunnels must not linger);
   * a draining agent passes its grace period: sessions get GOAWAY, their open tunnels go on until then.
   */
  close(graceMs = 0): void {
    this.closed = true;
    this.inputs.tls.off('roots', this.onRoots);
    void this.server?.close({ graceMs });
  }

  /** Creates the server with the pod's certificate, or installs a renewed certificate / rotated roots. */
  private async ensureServer(): Promise<void> {
    const w = this.pod.workload();
    if (!w) throw new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${this.pod.namespace}/${this.pod.name}`, reason: 'workload not known yet' });
    const tls = this.inputs.tls;
    const cert = await tls.certificate(tls.identityOf(w.namespace, w.serviceAccount));
    const roots = tls.roots();
    if (this.server === undefined) {
      this.server = createHboneServer({
        certificate: cert,
        trustRoots: roots,
        logger: this.inputs.log,
        authorize: this.authorize,
        connectUpstream: this.connectUpstream,
        onTunnel: this.onTunnel,
        // A CONNECT to the pod's 15001/15006/15008 (or loopback) would have the agent connect to itself.
        ownPorts: [...AGENT_POD_PORTS],
        ownAddresses: () => this.pod.ips,
        sessionIdleMs: this.inputs.hboneServer?.sessionIdleMs,
        registry: this.inputs.hboneServer?.registry,
      });
      this.server.on('refused', this.onRefused);
      this.server.attach(this.relay);
    } else {
      if (cert !== this.certificate) this.server.setCertificate(cert);
      if (roots !== this.roots) this.server.setTrustRoots(roots);
    }
    this.certificate = cert;
    this.roots = roots;
  }

  private readonly authorize = (peer: SpiffeId | null, target: TunnelTarget, t: TunnelInfo): AuthorizeResult => {
    const dstW = this.pod.workload();
    const srcIp = t.remoteAddress ?? '';
    const srcIdentity = peer?.toString();
    const info = this.connectionInfo(srcIp, srcIdentity ?? 'unknown', target.authority, target.port);
    if (!this.pod.ips.includes(target.host)) {
      return this.refuse(info, 403, new WeftError('ERR_WEFT_AGENT_UNKNOWN_DESTINATION', { address: info.dst }));
    }
    if (!dstW) {
      return this.refuse(info, 503, new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${this.pod.namespace}/${this.pod.name}`, reason: 'workload not known yet' }));
    }
    const decision = this.inputs.authz.forWorkload(dstW).authorizeL4({ principal: srcIdentity, sourceIp: srcIp, port: target.port });
    if (!decision.allowed) {
      const err = new WeftError('ERR_WEFT_AGENT_DENIED', { source: info.srcIdentity, destination: info.dstIdentity, policy: decision.policy ?? '-' });
      return this.refuse(info, 403, err, decision.policy);
    }
    this.pending.set(t, info);
    return { allow: true };
  };

  private readonly connectUpstream = (target: TunnelTarget, t: TunnelInfo): Promise<Duplex> => {
    const info = this.pending.get(t);
    if (info === undefined) return Promise.reject(new Error('tunnel was not authorised'));
    // Each tunnel holds an upstream socket: counted like an accepted connection, from the session's peer.
    const release = this.inputs.limits.acquire(this.pod.uid, hostOf(t.remoteAddress), 'hbone-tunnel');
    if (typeof release !== 'function') return Promise.reject(release);
    const up = this.pod.factory.connect(target.host, target.port, { sourceAddress: info.srcIp });
    up.once('close', release);
    up.setNoDelay(true);
    return new Promise((resolve, reject) => {
      up.once('error', (err: Error) => {
        this.inputs.connections.refused(info, 'CONNECT', err.message);
        up.destroy();
        reject(err);
      });
      up.once('connect', () => {
        up.removeAllListeners('error');
        up.on('error', () => up.destroy());
        this.tunnels.set(up, info);
        resolve(up);
      });
    });
  };

  private readonly onTunnel = (stream: Duplex, t: TunnelInfo): void => {
    const up = t.upstream as Socket | undefined;
    const info = up === undefined ? undefined : this.tunnels.get(up);
    if (up === undefined || info === undefined) {
      stream.destroy();
      up?.destroy();
      return;
    }
    this.inputs.connections.track(info, stream, up, () => [up.bytesWritten, up.bytesRead]);
    void pipeTunnel(stream, up);
  };

  /**
   * Refusals lib/hbone makes itself — TLS/identity failures of a session, a method other than CONNECT,
   * a malformed `:authority` — get the same access-log line and connection metrics as the agent's own.
   * Refusals from this class's hooks (DENIED, UNAVAILABLE) are recorded where they are decided.
   */
  private readonly onRefused = (err: WeftError, remote: string | undefined): void => {
    if (OWN_REFUSALS.has(err.code)) return;
    const srcIp = hostOf(remote);
    const authority = typeof err.params.authority === 'string' ? err.params.authority : undefined;
    // The event names no verified peer: a TLS refusal has none, and for a refused stream lib/hbone does
    // not pass the session's identity on.
    const info = this.connectionInfo(srcIp, 'unknown', authority ?? `${this.pod.ips[0] ?? ''}:${HBONE_PORT}`, HBONE_PORT);
    this.inputs.connections.refused(info, flagOf(err), `${err.message} (${err.code})`);
  };

  private connectionInfo(srcIp: string, srcIdentity: string, dst: string, dstPort: number): ConnectionInfo {
    const srcW = srcIp ? this.inputs.view.workloadByIp(srcIp) : undefined;
    const dstW = this.pod.workload();
    return {
      reporter: 'destination',
      direction: 'inbound',
      podUid: this.pod.uid,
      srcIp,
      srcWorkload: srcW ? workloadLabelOf(srcW) : 'unknown',
      srcNamespace: srcW?.namespace ?? 'unknown',
      srcIdentity,
      dst,
      dstWorkload: dstW ? workloadLabelOf(dstW) : 'unknown',
      dstNamespace: this.pod.namespace,
      dstIdentity: dstW ? identityOf(this.inputs.tls.trustDomain, dstW) : 'unknown',
      path: 'hbone',
      dstPort,
    };
  }

  private refuse(info: ConnectionInfo, status: 403 | 503, err: WeftError, policy?: string): AuthorizeResult {
    const flag = err.flag ?? 'ERROR';
    this.inputs.connections.refused(info, flag, err.message, policy);
    // A policy refusal tells the source only that a policy refused it; which one is logged here, not sent.
    return { allow: false, status, reason: err.code === 'ERR_WEFT_AGENT_DENIED' ? `${flag}: ${POLICY_DENIED_REASON}` : `${flag}: ${err.message}` };
  }
}

/** Codes lib/hbone raises for the authorize / connectUpstream hooks' answers, logged by those hooks. */
const OWN_REFUSALS: ReadonlySet<string> = new Set(['ERR_WEFT_HBONE_DENIED', 'ERR_WEFT_HBONE_UNAVAILABLE']);
const BAD_REQUEST: ReadonlySet<string> = new Set(['ERR_WEFT_HBONE_METHOD_NOT_ALLOWED', 'ERR_WEFT_HBONE_BAD_AUTHORITY']);

/** The access-log / metric flag: TLS for session refusals, BAD_REQUEST for requests that are not HBONE. */
function flagOf(err: WeftError): string {
  if (BAD_REQUEST.has(err.code)) return 'BAD_REQUEST';
  return err.flag ?? 'CONNECT';
}

/** `ip`, `ip:port` or `::ffff:ip:port` (lib/hbone gives both forms) → the IP. */
function hostOf(remote: string | undefined): string {
  if (!remote) return '';
  let ip = remote;
  if (isIP(ip) === 0) {
    const colon = ip.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(ip.slice(colon + 1))) ip = ip.slice(0, colon);
  }
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
