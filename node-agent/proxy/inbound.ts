import { isIP, type Server, type Socket } from 'node:net';
import type { ServerHttp2Stream } from 'node:http2';
import { WeftError } from '../../lib/errors/index.js';
import { HBONE_PORT, createHboneServer, pipeTunnel, type AcceptedTunnel, type AuthorizeResult, type HboneServer, type RefusedBy, type Tunnel, type TunnelInfo, type TunnelTarget } from '../../lib/hbone/index.js';
import { POLICY_DENIED_REASON } from '../../lib/authz/index.js';
import type { SpiffeId, WorkloadCertificate } from '../../lib/identity/index.js';
import type { ConnectionInfo } from './connections.js';
import { connectFailed, workloadUnknown } from './refusals.js';
import { identityOf, type PodContext, type ProxyInputs } from './inputs.js';
import { AGENT_POD_PORTS } from './self-call.js';
import { workloadLabelOf } from '../../lib/model/index.js';
import { dryRunContext } from './dry-run-context.js';
import { serviceLabelsOf } from '../../lib/telemetry/istio-labels.js';

/**
 * The pod's HBONE server on 15008: lib/hbone's server (mutual TLS 1.3 with the pod's certificate, peer
 * SPIFFE ID read once per session, 1000 streams per session) fed by the listener made inside the pod's
 * netns. Each CONNECT is authorised here (L4 policy; refusals carry `x-weft-reason: <FLAG>: <message>`, a
 * policy refusal only `DENY: policy_denied`)
 * and connected to the app from inside the pod's netns with the client's IP as source.
 */
export class InboundHbone {
  private server: HboneServer | undefined;
  private certificate: WorkloadCertificate | undefined;
  private roots: readonly string[] | undefined;
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
          // Served once the pod's certificate is known (it may not be at start).
          if (this.closed || this.server === undefined) socket.destroy();
          else this.server.serve(socket);
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
    if (!w) throw workloadUnknown(this.pod);
    const tls = this.inputs.tls;
    const cert = await tls.certificate(tls.identityOf(w.namespace, w.serviceAccount));
    const roots = tls.roots();
    if (this.server === undefined) {
      this.server = createHboneServer<ConnectionInfo, Socket>({
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
    } else {
      if (cert !== this.certificate) this.server.setCertificate(cert);
      if (roots !== this.roots) this.server.setTrustRoots(roots);
    }
    this.certificate = cert;
    this.roots = roots;
  }

  /** Decides the tunnel; its connection record is the tunnel's context for the later hooks. */
  private readonly authorize = (peer: SpiffeId | null, target: TunnelTarget, t: TunnelInfo): AuthorizeResult<ConnectionInfo> => {
    const dstW = this.pod.workload();
    const srcIp = t.remoteAddress ?? '';
    const srcIdentity = peer?.toString();
    const info = this.connectionInfo(srcIp, srcIdentity ?? 'unknown', target.authority, target.port);
    if (!this.pod.ips.includes(target.host)) {
      return this.refuse(info, new WeftError('ERR_WEFT_AGENT_UNKNOWN_DESTINATION', { address: info.dst }));
    }
    if (!dstW) {
      return this.refuse(info, workloadUnknown(this.pod));
    }
    const policies = this.inputs.authz.forWorkload(dstW);
    const req = { principal: srcIdentity, sourceIp: srcIp, port: target.port };
    const decision = policies.authorizeL4(req);
    info.authz = decision;
    if (policies.dryRun !== undefined) info.wouldBe = this.inputs.dryRun.l4(policies, req, decision, dryRunContext(info));
    if (!decision.allowed) {
      const err = new WeftError('ERR_WEFT_AGENT_DENIED', { source: info.srcIdentity, destination: info.dstIdentity, policy: decision.policy ?? decision.reason });
      return this.refuse(info, err, decision.policy);
    }
    return { allow: true, context: info };
  };

  private readonly connectUpstream = (target: TunnelTarget, t: Tunnel<ConnectionInfo>): Promise<Socket> => {
    const info = t.context;
    // Each tunnel holds an upstream socket: counted like an accepted connection, from the session's peer.
    const release = this.inputs.limits.acquire(this.pod.uid, hostOf(t.remoteAddress), 'hbone-tunnel');
    if (typeof release !== 'function') return Promise.reject(release);
    const up = this.pod.factory.connect(target.host, target.port, { sourceAddress: info.srcIp });
    up.once('close', release);
    up.setNoDelay(true);
    return new Promise((resolve, reject) => {
      up.once('error', (err: Error) => {
        this.inputs.connections.refusedWith(info, connectFailed(target.authority, err));
        up.destroy();
        reject(err);
      });
      up.once('connect', () => {
        up.removeAllListeners('error');
        up.on('error', () => up.destroy());
        resolve(up);
      });
    });
  };

  private readonly onTunnel = (stream: ServerHttp2Stream, t: AcceptedTunnel<ConnectionInfo, Socket>): void => {
    const up = t.upstream;
    if (up === undefined) {
      stream.destroy();
      return;
    }
    this.inputs.connections.track(t.context, stream, up, () => [up.bytesWritten, up.bytesRead]);
    void pipeTunnel(stream, up);
  };

  /**
   * Refusals lib/hbone makes itself — TLS/identity failures of a session, a method other than CONNECT,
   * a malformed `:authority`, a self-target — get the same access-log line and connection metrics as the
   * agent's own. Refusals from this class's hooks are recorded where they are decided.
   */
  private readonly onRefused = (err: WeftError, remote: string | undefined, by: RefusedBy): void => {
    if (by !== 'server') return;
    const srcIp = hostOf(remote);
    const authority = typeof err.params.authority === 'string' ? err.params.authority : undefined;
    // The event names no verified peer: a TLS refusal has none, and for a refused stream lib/hbone does
    // not pass the session's identity on.
    const info = this.connectionInfo(srcIp, 'unknown', authority ?? `${this.pod.ips[0] ?? ''}:${HBONE_PORT}`, HBONE_PORT);
    this.inputs.connections.refusedWith(info, err);
  };

  private connectionInfo(srcIp: string, srcIdentity: string, dst: string, dstPort: number): ConnectionInfo {
    // The peer's owning workload: its verified identity, and its IP when that agrees (lib/model/peer-workload.ts).
    const src = this.inputs.peers.resolve(srcIdentity === 'unknown' ? undefined : srcIdentity, srcIp);
    const dstW = this.pod.workload();
    return {
      reporter: 'destination',
      direction: 'inbound',
      podUid: this.pod.uid,
      srcIp,
      srcWorkload: src.workload,
      srcNamespace: src.namespace,
      srcIdentity,
      dst,
      dstWorkload: dstW ? workloadLabelOf(dstW) : 'unknown',
      dstNamespace: this.pod.namespace,
      dstIdentity: dstW ? identityOf(this.inputs.tls.trustDomain, dstW) : 'unknown',
      path: 'hbone',
      dstPort,
      service: serviceLabelsOf(dstW ? this.inputs.endpointServices.of(dstW.uid, dstPort) : undefined),
      security: 'mutual_tls',
    };
  }

  private refuse(info: ConnectionInfo, err: WeftError, policy?: string): AuthorizeResult<ConnectionInfo> {
    this.inputs.connections.refusedWith(info, err, policy);
    // A policy refusal tells the source only that a policy refused it; which one is logged here, not sent.
    if (err.code === 'ERR_WEFT_AGENT_DENIED') return { allow: false, status: 403, reason: `${err.flag ?? 'DENY'}: ${POLICY_DENIED_REASON}` };
    return { allow: false, error: err };
  }
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
