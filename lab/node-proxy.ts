import type { Logger } from '../lib/telemetry/log.js';
import { run } from './command.js';
import type { ProxyWatch } from './kube/proxy-watch.js';
import type { LabPaths } from './names.js';
import { writePodHosts } from './pod-etc.js';
import type { PodState } from './pod-state.js';
import { renderHosts, renderProxyRules } from './services.js';

/**
 * A lab node's kube-proxy, run by its kubelet on every sync: the node's Service rules (services.ts) and
 * each local pod's hosts file (pod-etc.ts), both from the API server's Services and EndpointSlices as
 * kube-proxy reads them (`watch`, proxy-watch.ts). Rules load only when they changed, hosts files are
 * written only when their text changed.
 */
export class NodeProxy {
  /** The API server's Services and EndpointSlices, once kubelet-main connected them. */
  watch: ProxyWatch | undefined;
  private lastRules = '';
  private lastRulesError = '';
  private readonly hostsWritten = new Map<string, string>();

  constructor(
    private readonly paths: LabPaths,
    private readonly log: Logger,
    private readonly extraHosts: () => { ip: string; names: readonly string[] }[],
  ) {}

  async sync(pods: Iterable<PodState>): Promise<void> {
    const watch = this.watch;
    // Until kube-proxy's first lists arrive, the rules loaded before stay (no VIP refused for "not known yet").
    if (watch?.isSynced !== true) return;
    const services = watch.serviceViews();
    await this.loadRules(renderProxyRules(services, watch.sliceViews()));
    for (const st of pods) {
      if (!st.rec.ip || st.stopping) continue;
      const text = renderHosts({ namespace: st.rec.namespace, name: st.rec.name, ip: st.rec.ip }, services, this.extraHosts());
      if (this.hostsWritten.get(st.key) === text) continue;
      await writePodHosts(this.paths, st.rec.netns, text);
      this.hostsWritten.set(st.key, text);
    }
  }

  /** The pod's hosts file is gone (or new): the next sync writes it whatever the text. */
  forgetHosts(key: string): void {
    this.hostsWritten.delete(key);
  }

  private async loadRules(rules: string): Promise<void> {
    if (rules === this.lastRules) return;
    try {
      await run(['nft', '-f', '-'], { input: rules });
      this.lastRules = rules;
      this.lastRulesError = '';
    } catch (err) {
      // Retried on every sync; logged once per distinct error.
      if ((err as Error).message !== this.lastRulesError) this.log.error({ err }, 'loading the service rules failed');
      this.lastRulesError = (err as Error).message;
    }
  }
}
