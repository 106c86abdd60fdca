import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WeftError } from '../../lib/errors/index.js';
import { createHboneServer, pipeTunnel, type AuthorizeResult, type HboneServer, type TunnelInfo, type TunnelTarget } from '../../lib/hbone/index.js';
import type { SpiffeId, WorkloadCertificate } from '../../lib/identity/index.js';
import { authorize, policiesFor } from '../authz.js';
import type { ConnectionInfo } from './connections.js';
import { identityOf, type PodContext, type ProxyInputs } from './inputs.js';

/**
 * The pod's HBONE server on 15008: lib/hbone's server (mutual TLS 1.3 with the pod's certificate, peer
 * SPIFFE ID read once per session, 1000 streams per session) fed by the listener made inside the pod's
 * netns. Each CONNECT is authorised here (L4 policy; refusals carry `x-weft-reason: <FLAG>: <message>`)
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
  ) {}

  /** Feeds connections accepted on the pod's 15008 listener into the HBONE server. */
  attach(listener: Server): void {
    listener.on('connection', (socket: Socket) => {
      socket.on('error', () => socket.destroy());
      socket.setNoDelay(true);
      this.ensureServer().then(
        () => {
          if (this.closed) socket.destroy();
          else this.relay.emit('connection', socket);
        },
        (err: unknown) => {
          this.inputs.log.warn({ err, pod: `${this.pod.namespace}/${this.pod.name}` }, 'no certificate for HBONE server; refusing');
          socket.destroy();
        },
      );
    });
  }

  /** Stops serving: live sessions end too (the pod was released; its tunnels must not linger). */
  close(): void {
    this.closed = true;
    void this.server?.close({ graceMs: 0 });
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
      });
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
    const srcW = this.inputs.view.workloadByIp(srcIp);
    const srcIdentity = peer?.toString();
    const info: ConnectionInfo = {
      reporter: 'destination',
      direction: 'inbound',
      podUid: this.pod.uid,
      srcIp,
      srcWorkload: srcW?.name ?? 'unknown',
      srcNamespace: srcW?.namespace ?? 'unknown',
      srcIdentity: srcIdentity ?? 'unknown',
      dst: target.authority,
      dstWorkload: dstW?.name ?? this.pod.name,
      dstNamespace: this.pod.namespace,
      dstIdentity: dstW ? identityOf(this.inputs.tls.trustDomain, dstW) : 'unknown',
      path: 'hbone',
      dstPort: target.port,
    };
    if (!this.pod.ips.includes(target.host)) {
      return this.refuse(info, 403, new WeftError('ERR_WEFT_AGENT_UNKNOWN_DESTINATION', { address: info.dst }));
    }
    if (!dstW) {
      return this.refuse(info, 503, new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${this.pod.namespace}/${this.pod.name}`, reason: 'workload not known yet' }));
    }
    const decision = authorize(policiesFor(this.inputs.view, dstW), { sourceIdentity: srcIdentity, sourceIp: srcIp, port: target.port });
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
    const up = this.pod.factory.connect(target.host, target.port, { sourceAddress: info.srcIp });
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

  private refuse(info: ConnectionInfo, status: 403 | 503, err: WeftError, policy?: string): AuthorizeResult {
    const flag = err.flag ?? 'ERROR';
    this.inputs.connections.refused(info, flag, err.message, policy);
    return { allow: false, status, reason: `${flag}: ${err.message}` };
  }
}
