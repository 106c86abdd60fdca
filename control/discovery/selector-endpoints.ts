import type { Endpoint } from '../../lib/model/index.js';
import type { PodObject } from '../sources/schemas.js';
import { podIps, podReady, podUid } from './compile-workload.js';
import { labelsMatch, type PodServiceIndex } from './pod-service-index.js';

function endpointOf(p: PodObject): Endpoint | undefined {
  const ip = podIps(p)[0];
  if (!ip || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
  return { workloadUid: podUid(p), address: ip, ready: podReady(p) };
}

/**
 * Directory mode's endpoints: computed from Service selectors over pods (cluster mode reads EndpointSlices
 * instead), kept per Service key (`ns/name`) and refreshed per pod or per Service.
 */
export class SelectorEndpoints {
  /** Service key → pod uid → endpoint. */
  private readonly endpointsOf = new Map<string, Map<string, Endpoint>>();

  constructor(private readonly index: PodServiceIndex) {}

  /** Recomputes every Service's endpoints from the index, pod-driven: each pod looks up the Services selecting it. */
  rebuild(): void {
    this.endpointsOf.clear();
    for (const s of this.index.allServices()) this.endpointsOf.set(`${s.metadata.namespace ?? ''}/${s.metadata.name}`, new Map());
    for (const p of this.index.allPods()) {
      const ep = endpointOf(p);
      if (!ep) continue;
      const ns = p.metadata.namespace ?? '';
      for (const name of this.index.servicesSelecting(ns, p.metadata.labels)) this.endpointsOf.get(`${ns}/${name}`)!.set(ep.workloadUid, ep);
    }
  }

  /** A Service's endpoints, sorted by workload uid. */
  list(key: string): Endpoint[] {
    return [...(this.endpointsOf.get(key)?.values() ?? [])].sort((a, b) => (a.workloadUid < b.workloadUid ? -1 : 1));
  }

  delete(key: string): void {
    this.endpointsOf.delete(key);
  }

  /** Rechecks one pod against one Service; true when that Service's endpoints changed. */
  refreshPod(key: string, uid: string): boolean {
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.index.service(ns, name);
    if (!svc) return false;
    let eps = this.endpointsOf.get(key);
    if (!eps) this.endpointsOf.set(key, (eps = new Map<string, Endpoint>()));
    const pod = this.index.pod(ns, uid);
    const next = pod && labelsMatch(svc.spec?.selector, pod.metadata.labels) ? endpointOf(pod) : undefined;
    const before = eps.get(uid);
    if (!next) return eps.delete(uid);
    if (before && before.address === next.address && before.ready === next.ready) return false;
    eps.set(uid, next);
    return true;
  }

  /** Recomputes one Service's endpoints over the pods of its namespace; true when they changed. */
  refresh(key: string): boolean {
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.index.service(ns, name);
    const before = this.endpointsOf.get(key);
    if (!svc) return this.endpointsOf.delete(key);
    const next = new Map<string, Endpoint>();
    const selector = svc.spec?.selector;
    for (const p of this.index.podsIn(ns)?.values() ?? []) {
      if (!labelsMatch(selector, p.metadata.labels)) continue;
      const ep = endpointOf(p);
      if (ep) next.set(ep.workloadUid, ep);
    }
    this.endpointsOf.set(key, next);
    if (!before || before.size !== next.size) return true;
    for (const [uid, e] of next) {
      const b = before.get(uid);
      if (!b || b.address !== e.address || b.ready !== e.ready) return true;
    }
    return false;
  }
}
