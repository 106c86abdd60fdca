import type { PodObject, ServiceObject } from '../sources/schemas.js';
import { podUid } from './compile-workload.js';

/** Whether a Service selector selects `labels` (an empty selector selects nothing: endpoints are managed by hand). */
export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const k in selector) if (l[k] !== selector[k]) return false;
  return true;
}

function firstPair(selector: Record<string, string> | undefined): string | undefined {
  if (!selector) return undefined;
  const k = Object.keys(selector).sort()[0];
  return k === undefined ? undefined : `${k}=${selector[k]}`;
}

/**
 * The compiler's view of pods and Services by namespace, with a selector index so that a pod finds the
 * Services selecting it without every Service scanning every pod of its namespace.
 */
export class PodServiceIndex {
  private readonly podsByNs = new Map<string, Map<string, PodObject>>();
  private readonly servicesByNs = new Map<string, Map<string, ServiceObject>>();
  /** Per namespace: a Service's first selector pair `k=v` → names of Services with that pair. */
  private readonly selectorIndex = new Map<string, Map<string, Set<string>>>();

  clear(): void {
    this.podsByNs.clear();
    this.servicesByNs.clear();
    this.selectorIndex.clear();
  }

  /** Pods of a namespace by uid. */
  podsIn(ns: string): ReadonlyMap<string, PodObject> | undefined {
    return this.podsByNs.get(ns);
  }

  *allPods(): IterableIterator<PodObject> {
    for (const pods of this.podsByNs.values()) yield* pods.values();
  }

  pod(ns: string, uid: string): PodObject | undefined {
    return this.podsByNs.get(ns)?.get(uid);
  }

  podByName(ns: string, name: string): PodObject | undefined {
    for (const p of this.podsByNs.get(ns)?.values() ?? []) if (p.metadata.name === name) return p;
    return undefined;
  }

  /** Services of a namespace by name. */
  servicesIn(ns: string): ReadonlyMap<string, ServiceObject> | undefined {
    return this.servicesByNs.get(ns);
  }

  *allServices(): IterableIterator<ServiceObject> {
    for (const svcs of this.servicesByNs.values()) yield* svcs.values();
  }

  service(ns: string, name: string): ServiceObject | undefined {
    return this.servicesByNs.get(ns)?.get(name);
  }

  indexPod(p: PodObject): void {
    const ns = p.metadata.namespace ?? '';
    let m = this.podsByNs.get(ns);
    if (!m) this.podsByNs.set(ns, (m = new Map<string, PodObject>()));
    m.set(podUid(p), p);
  }

  deletePod(ns: string, uid: string): void {
    this.podsByNs.get(ns)?.delete(uid);
  }

  indexService(s: ServiceObject): void {
    const ns = s.metadata.namespace ?? '';
    let m = this.servicesByNs.get(ns);
    if (!m) this.servicesByNs.set(ns, (m = new Map<string, ServiceObject>()));
    m.set(s.metadata.name, s);
    const pair = firstPair(s.spec?.selector);
    if (pair === undefined) return;
    let idx = this.selectorIndex.get(ns);
    if (!idx) this.selectorIndex.set(ns, (idx = new Map<string, Set<string>>()));
    let names = idx.get(pair);
    if (!names) idx.set(pair, (names = new Set()));
    names.add(s.metadata.name);
  }

  unindexService(ns: string, name: string): void {
    const old = this.servicesByNs.get(ns)?.get(name);
    if (!old) return;
    this.servicesByNs.get(ns)!.delete(name);
    const pair = firstPair(old.spec?.selector);
    if (pair !== undefined) this.selectorIndex.get(ns)?.get(pair)?.delete(name);
  }

  /** Names of the Services in `ns` whose selector matches `labels`. */
  servicesSelecting(ns: string, labels: Record<string, string> | undefined): string[] {
    const idx = this.selectorIndex.get(ns);
    if (!idx || !labels) return [];
    const out: string[] = [];
    for (const k in labels) {
      for (const name of idx.get(`${k}=${labels[k]}`) ?? []) {
        if (labelsMatch(this.servicesByNs.get(ns)?.get(name)?.spec?.selector, labels)) out.push(name);
      }
    }
    return out;
  }
}
