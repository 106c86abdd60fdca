import type { Logger } from '../lib/telemetry/log.js';
import { readStatus } from './cluster-store.js';
import { run } from './command.js';
import { endpointSliceView, podEndpointSlices, type ReadyPod } from './endpoint-slices.js';
import type { ProxyWatch } from './kube/proxy-watch.js';
import type { KubeObject, PodSpec } from './manifests.js';
import type { LabPaths } from './names.js';
import { writePodHosts } from './pod-etc.js';
import type { PodState } from './pod-state.js';
import { renderHosts, renderProxyRules, serviceView } from './services.js';

/**
 * A lab node's kube-proxy, run by its kubelet on every sync: the node's Service rules (services.ts) and
 * each local pod's hosts file (pod-etc.ts), both from the same Services: the API server's with their
 * EndpointSlices, as kube-proxy reads them (`watch`, proxy-watch.ts), and the file store's with the
 * slices made from its ready pods (endpoint-slices.ts) and those applied by hand (a selectorless Service's). Rules load only when they changed, hosts files
 * are written only when their text changed.
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

  /** `fileObjects`: the file store's objects (its Services and EndpointSlices are read). */
  async sync(filePods: readonly KubeObject[], fileObjects: readonly KubeObject[], pods: Iterable<PodState>): Promise<void> {
    const fileServices = fileObjects.flatMap((o) => (o.kind === 'Service' ? (serviceView(o) ?? []) : []));
    const fileSlices = fileObjects.flatMap((o) => (o.kind === 'EndpointSlice' ? (endpointSliceView(o) ?? []) : []));
    const watch = this.watch;
    const services = [...fileServices, ...(watch?.serviceViews() ?? [])];
    const slices = [...podEndpointSlices(fileServices, await this.readyFilePods(filePods)), ...fileSlices, ...(watch?.sliceViews() ?? [])];
    // Until kube-proxy's first lists arrive, the rules loaded before stay (no VIP refused for "not known yet").
    if (watch?.isSynced !== false) await this.loadRules(renderProxyRules(services, slices));
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

  /** The file store's pods that are Ready with an address (status files the kubelets write). */
  private async readyFilePods(filePods: readonly KubeObject[]): Promise<ReadyPod[]> {
    const statuses = await Promise.all(filePods.map((p) => readStatus(this.paths.status, `Pod.${p.metadata.namespace ?? 'default'}.${p.metadata.name}.yaml`)));
    const ready: ReadyPod[] = [];
    for (const [i, p] of filePods.entries()) {
      const status = statuses[i];
      const ip = status?.podIP;
      if (typeof ip !== 'string') continue;
      const conds = (status?.conditions as { type: string; status: string }[] | undefined) ?? [];
      if (!conds.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const spec = p.spec as PodSpec | undefined;
      ready.push({ namespace: p.metadata.namespace ?? 'default', ip, labels: p.metadata.labels ?? {}, ports: (spec?.containers ?? []).flatMap((c) => c.ports ?? []) });
    }
    return ready;
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
