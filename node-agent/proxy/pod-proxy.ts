import type { Server, Socket } from 'node:net';
import { WeftError } from '../../lib/errors/index.js';
import { LogThrottle } from '../../lib/telemetry/log-throttle.js';
import type { Workload } from '../../lib/model/index.js';
import { HBONE_PORT, INBOUND_PLAIN_PORT, OUTBOUND_PORT } from '../../lib/names.js';
import type { SocketFactory } from '../netns/socket-factory.js';
import { InboundHbone } from './inbound.js';
import { handleInboundPlain } from './inbound-plain.js';
import type { PodContext, ProxyInputs } from './inputs.js';
import { handleOutbound } from './outbound.js';

export interface PodIdentity {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
}

/**
 * One enrolled pod's listeners — 15001 outbound, 15006 plaintext inbound, 15008 HBONE — created inside
 * the pod's netns through its SocketFactory (with SO_REUSEPORT, so a restarted agent can bind while the
 * old one still runs).
 */
export class PodProxy implements PodContext {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  private readonly servers: Server[] = [];
  private hbone: InboundHbone | undefined;
  private cached: Workload | undefined;
  private cachedGen = -1;

  constructor(
    private readonly inputs: ProxyInputs,
    pod: PodIdentity,
    readonly factory: SocketFactory,
  ) {
    this.uid = pod.uid;
    this.namespace = pod.namespace;
    this.name = pod.name;
    this.ips = pod.ips;
  }

  private readonly throttle = new LogThrottle();
  // A throw in a connection handler would be uncaught and end the agent (every pod on the node loses
  // the mesh): it costs only that connection. Also run later by the ready gate, hence wrapped here.
  private readonly handleOutbound = (s: Socket): void => this.guarded(s, 'outbound', handleOutbound);
  private readonly handleInboundPlain = (s: Socket): void => this.guarded(s, 'inbound-plain', handleInboundPlain);
  // Counted against the pod's and the source's bounds first; then a restarted agent, which re-creates
  // listeners before it has state, holds them at the gate until ready.
  private readonly onOutbound = (s: Socket): void => {
    if (!this.inputs.limits.admit(this.uid, s, 'outbound')) return;
    if (this.inputs.gate) this.inputs.gate.admit(s, this.handleOutbound);
    else this.handleOutbound(s);
  };
  private readonly onInboundPlain = (s: Socket): void => {
    if (!this.inputs.limits.admit(this.uid, s, 'inbound-plain')) return;
    if (this.inputs.gate) this.inputs.gate.admit(s, this.handleInboundPlain);
    else this.handleInboundPlain(s);
  };

  private guarded(s: Socket, kind: string, handle: (inputs: ProxyInputs, pod: PodContext, down: Socket) => void): void {
    try {
      handle(this.inputs, this, s);
    } catch (err) {
      s.destroy();
      const suppressed = this.throttle.due(`handler/${kind}`);
      if (suppressed !== undefined) this.inputs.log.error({ err, kind, suppressed, pod: `${this.namespace}/${this.name}` }, 'connection handler failed; connection closed');
    }
  }

  workload(): Workload | undefined {
    const view = this.inputs.view;
    if (this.cachedGen === view.generation) return this.cached;
    const w = (this.uid ? view.workloadByUid(this.uid) : undefined) ?? view.workloadByName(this.namespace, this.name);
    this.cached = w;
    this.cachedGen = view.generation;
    return w;
  }

  async start(): Promise<void> {
    try {
      const outbound = await this.listen(OUTBOUND_PORT);
      outbound.on('connection', this.onOutbound);
      const plain = await this.listen(INBOUND_PLAIN_PORT);
      plain.on('connection', this.onInboundPlain);
      const hbone = await this.listen(HBONE_PORT);
      this.hbone = new InboundHbone(this.inputs, this);
      this.hbone.attach(hbone);
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Closes the listeners and every connection of this pod. */
  stop(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    this.hbone?.close();
    const gone = { err: new WeftError('ERR_WEFT_AGENT_POD_RELEASED', { pod: `${this.namespace}/${this.name}` }) };
    this.inputs.connections.closeWhere((c) => (c.info.podUid === this.uid ? gone : undefined));
    this.inputs.pool.close(this.uid);
  }

  /**
   * Drain (agent SIGTERM): closes the listeners only; live connections go on, HBONE sessions get GOAWAY
   * and up to `graceMs`. A successor agent's listeners on the same ports (SO_REUSEPORT) take the new
   * connections, and with tcp_migrate_req those still queued on these.
   */
  drain(graceMs: number): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    this.hbone?.close(graceMs);
  }

  private async listen(port: number): Promise<Server> {
    try {
      const s = await this.factory.listen('0.0.0.0', port, { reusePort: true });
      // Accept errors (EMFILE, ENFILE) come once per waiting connection: logged at most every 10 s.
      s.on('error', (err) => {
        const suppressed = this.throttle.due(`listener/${port}`);
        if (suppressed !== undefined) this.inputs.log.warn({ err, port, suppressed, pod: `${this.namespace}/${this.name}` }, 'listener error');
      });
      this.servers.push(s);
      return s;
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_LISTEN_FAILED', { port, netns: this.factory.where, pod: `${this.namespace}/${this.name}`, reason: (err as Error).message }, { cause: err });
    }
  }
}
