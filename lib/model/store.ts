import { EventEmitter } from 'node:events';
import type { Workload, Service } from './workload.js';
import type { AuthorizationPolicy } from './policy.js';
import type { RouteTable } from './routes.js';
import { keyOf, type Delta, type ResourceByKind, type ResourceKind, type TrustBundleData, RESOURCE_KINDS } from './resources.js';

/**
 * What proxies read: lookups by the keys the data path needs, no writes. Lookups are O(1) map reads so
 * they can run per connection.
 */
export interface StateView {
  workloadByUid(uid: string): Workload | undefined;
  workloadByIp(ip: string): Workload | undefined;
  /** A pod by namespace and name (the CNI and the enrollment state know pods by name before their uid). */
  workloadByName(namespace: string, name: string): Workload | undefined;
  /** The workloads scheduled on one node (a node agent's own pods). */
  workloadsOnNode(node: string): readonly Workload[];
  serviceByVip(vip: string): Service | undefined;
  service(namespace: string, name: string): Service | undefined;
  policiesIn(namespace: string): readonly AuthorizationPolicy[];
  routeTable(namespace: string, name: string): RouteTable | undefined;
  trustBundle(): TrustBundleData | undefined;
  workloads(): IterableIterator<Workload>;
  services(): IterableIterator<Service>;
  /** Kinds whose initial snapshot has arrived. */
  synced(kind: ResourceKind): boolean;
  /** Monotonic count of applied deltas; cheap change detection. */
  readonly generation: number;
  on(event: 'change', listener: (kinds: ReadonlySet<ResourceKind>) => void): this;
  off(event: 'change', listener: (kinds: ReadonlySet<ResourceKind>) => void): this;
}

/**
 * The one writer of a data plane's cluster state (ztunnel's ProxyStateManager): the discovery client or
 * the local-config loader calls `apply`; everyone else holds the `StateView`. Deltas must already be
 * validated and converted (conversion happens before the write, never under it).
 */
export class StateStore extends EventEmitter implements StateView {
  private readonly byKind = new Map<ResourceKind, Map<string, unknown>>(RESOURCE_KINDS.map((k) => [k, new Map()]));
  private readonly byIp = new Map<string, Workload>();
  private readonly byName = new Map<string, Workload>();
  private readonly byNode = new Map<string, Workload[]>();
  private readonly byVip = new Map<string, Service>();
  private readonly policiesByNs = new Map<string, AuthorizationPolicy[]>();
  private readonly syncedKinds = new Set<ResourceKind>();
  private readonly versions = new Map<ResourceKind, string>();
  private gen = 0;

  get generation(): number {
    return this.gen;
  }

  /** Last applied version per kind, for resuming a watch. */
  version(kind: ResourceKind): string | undefined {
    return this.versions.get(kind);
  }

  apply(deltas: readonly Delta[]): void {
    const changed = new Set<ResourceKind>();
    for (const d of deltas) {
      const map = this.byKind.get(d.kind)!;
      if (d.replace) map.clear();
      for (const key of d.removes) map.delete(key);
      for (const r of d.upserts) map.set(keyOf(d.kind, r), r);
      if (d.snapshotDone || d.replace) this.syncedKinds.add(d.kind);
      this.versions.set(d.kind, d.version);
      changed.add(d.kind);
    }
    if (changed.size === 0) return;
    if (changed.has('Workload')) this.reindexWorkloads();
    if (changed.has('Service')) this.reindexServices();
    if (changed.has('Authorization')) this.reindexPolicies();
    this.gen++;
    this.emit('change', changed);
  }

  workloadByUid(uid: string): Workload | undefined {
    return this.byKind.get('Workload')!.get(uid) as Workload | undefined;
  }

  workloadByIp(ip: string): Workload | undefined {
    return this.byIp.get(ip);
  }

  workloadByName(namespace: string, name: string): Workload | undefined {
    return this.byName.get(`${namespace}/${name}`);
  }

  workloadsOnNode(node: string): readonly Workload[] {
    return this.byNode.get(node) ?? NO_WORKLOADS;
  }

  serviceByVip(vip: string): Service | undefined {
    return this.byVip.get(vip);
  }

  service(namespace: string, name: string): Service | undefined {
    return this.byKind.get('Service')!.get(`${namespace}/${name}`) as Service | undefined;
  }

  policiesIn(namespace: string): readonly AuthorizationPolicy[] {
    return this.policiesByNs.get(namespace) ?? EMPTY;
  }

  routeTable(namespace: string, name: string): RouteTable | undefined {
    return this.byKind.get('RouteTable')!.get(`${namespace}/${name}`) as RouteTable | undefined;
  }

  trustBundle(): TrustBundleData | undefined {
    return this.byKind.get('TrustBundle')!.get('default') as TrustBundleData | undefined;
  }

  workloads(): IterableIterator<Workload> {
    return this.byKind.get('Workload')!.values() as IterableIterator<Workload>;
  }

  services(): IterableIterator<Service> {
    return this.byKind.get('Service')!.values() as IterableIterator<Service>;
  }

  all<K extends ResourceKind>(kind: K): IterableIterator<ResourceByKind[K]> {
    return this.byKind.get(kind)!.values() as IterableIterator<ResourceByKind[K]>;
  }

  synced(kind: ResourceKind): boolean {
    return this.syncedKinds.has(kind);
  }

  // Indexes are rebuilt per delta batch rather than patched: batches are coalesced upstream (≤ 50 ms),
  // and a rebuild cannot leave a stale IP behind when a pod changes address.
  private reindexWorkloads(): void {
    this.byIp.clear();
    this.byName.clear();
    this.byNode.clear();
    for (const w of this.workloads()) {
      for (const ip of w.ips) this.byIp.set(ip, w);
      this.byName.set(`${w.namespace}/${w.name}`, w);
      let onNode = this.byNode.get(w.node);
      if (!onNode) this.byNode.set(w.node, (onNode = []));
      onNode.push(w);
    }
  }

  private reindexServices(): void {
    this.byVip.clear();
    for (const s of this.services()) for (const vip of s.vips) this.byVip.set(vip, s);
  }

  private reindexPolicies(): void {
    this.policiesByNs.clear();
    for (const p of this.all('Authorization')) {
      let list = this.policiesByNs.get(p.namespace);
      if (!list) this.policiesByNs.set(p.namespace, (list = []));
      list.push(p);
    }
  }
}

const EMPTY: readonly AuthorizationPolicy[] = Object.freeze([]);
const NO_WORKLOADS: readonly Workload[] = Object.freeze([]);
