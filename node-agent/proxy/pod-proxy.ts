import type { Server, Socket } from 'node:net';
import { WeftError } from '../../lib/errors/index.js';
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

  // A restarted agent re-creates listeners before it has state: the gate holds their connections until ready.
  private readonly handleOutbound = (s: Socket): void => handleOutbound(this.inputs, this, s);
  private readonly handleInboundPlain = (s: Socket): void => handleInboundPlain(this.inputs, this, s);
  private readonly onOutbound = (s: Socket): void => (this.inputs.gate ? this.inputs.gate.admit(s, this.handleOutbound) : this.handleOutbound(s));
  private readonly onInboundPlain = (s: Socket): void => (this.inputs.gate ? this.inputs.gate.admit(s, this.handleInboundPlain) : this.handleInboundPlain(s));

  workload(): Workload | undefined {
    const view = this.inputs.view;
    if (this.cachedGen === view.generation) return this.cached;
    let w = this.uid ? view.workloadByUid(this.uid) : undefined;
    if (!w) {
      for (const x of view.workloads()) if (x.namespace === this.namespace && x.name === this.name) w = x;
    }
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
    this.inputs.connections.closeWhere((c) => (c.info.podUid === this.uid ? { flag: 'POD_GONE', reason: 'pod released' } : undefined));
    this.inputs.pool.close(this.uid);
  }

  private async listen(port: number): Promise<Server> {
    try {
      const s = await this.factory.listen('0.0.0.0', port, { reusePort: true });
      s.on('error', (err) => this.inputs.log.warn({ err, port, pod: `${this.namespace}/${this.name}` }, 'listener error'));
      this.servers.push(s);
      return s;
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_LISTEN_FAILED', { port, netns: this.factory.where, pod: `${this.namespace}/${this.name}`, reason: (err as Error).message }, { cause: err });
    }
  }
}
