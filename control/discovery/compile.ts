import {
  type AuthorizationPolicy,
  type Endpoint,
  type ResourceKind,
  type RouteTable,
  type Service,
  type ServicePort,
  type WaypointRef,
  type Workload,
} from '../../lib/model/index.js';
import { LABEL_USE_WAYPOINT, LABEL_USE_WAYPOINT_NAMESPACE, LABEL_WAYPOINT_FOR } from '../../lib/names.js';
import type { ClusterSource, KubeObject, SourceChange } from '../sources/source.js';
import { authorizationPolicyOf } from './compile-policy.js';
import { podIps, podReady, podUid, workloadOf } from './compile-workload.js';
import { compileRouteTables, WAYPOINT_CLASS } from './routes/compile-routes.js';
import {
  asKind,
  listOf,
  type AuthorizationPolicyObject,
  type GatewayObject,
  type PodObject,
  type ServiceObject,
} from '../sources/schemas.js';

export { durationToMs, WAYPOINT_CLASS } from './routes/compile-routes.js';

// Compiles the cluster source's typed objects into lib/model resources (issue 6, "Destination and
// policy"). Incremental: a change marks only what it can affect dirty (a pod: its workload and the
// Services in its namespace whose selector matched before or after; a Service: itself and the route
// tables; a Namespace: everything in it; a Gateway or its generated objects: every binding), then
// recomputes those and reports the keys whose output really changed, by comparing a serialised
// fingerprint, so no-op updates never reach a watcher.

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type CompiledKind = Exclude<ResourceKind, 'TrustBundle'>;
/** Keys (lib/model keyOf) whose compiled output changed (upserted or removed), per kind. */
export type ChangeSet = Map<CompiledKind, Set<string>>;

export interface CompileOptions {
  trustDomain: string;
  /** Directory mode computes endpoints from selectors over pods; cluster mode reads EndpointSlices. */
  endpoints: 'selectors' | 'endpointslices';
  /** Mesh-wide mTLS mode for workloads whose pod and namespace carry no valid `weft.dev/mtls-mode` (default permissive). */
  mtlsModeDefault?: Workload['mtlsMode'];
}

type SourceView = Pick<ClusterSource, 'list' | 'get'>;

interface Entry<T> {
  value: T;
  /** JSON of `value`, computed when first compared (not at build: a full build would pay it for all). */
  fingerprint?: string;
}

export function emptyChangeSet(): ChangeSet {
  return new Map<CompiledKind, Set<string>>([
    ['Workload', new Set()],
    ['Service', new Set()],
    ['Authorization', new Set()],
    ['RouteTable', new Set()],
  ]);
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false; // no selector: endpoints are managed by hand
  const l = labels ?? {};
  for (const k in selector) if (l[k] !== selector[k]) return false;
  return true;
}

function firstPair(selector: Record<string, string> | undefined): string | undefined {
  if (!selector) return undefined;
  const k = Object.keys(selector).sort()[0];
  return k === undefined ? undefined : `${k}=${selector[k]}`;
}

function protocolFromName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const prefix = name.split('-')[0].toLowerCase();
  return ['http', 'http2', 'grpc', 'grpc-web', 'tcp', 'tls', 'https', 'h2c'].includes(prefix) ? prefix : undefined;
}

export class Compiler {
  readonly workloads = new Map<string, Entry<Workload>>();
  readonly services = new Map<string, Entry<Service>>();
  readonly policies = new Map<string, Entry<AuthorizationPolicy>>();
  readonly routeTables = new Map<string, Entry<RouteTable>>();

  private readonly podsByNs = new Map<string, Map<string, PodObject>>();
  private readonly servicesByNs = new Map<string, Map<string, ServiceObject>>();
  /** Per namespace: a Service's first selector pair `k=v` → names of Services with that pair. */
  private readonly selectorIndex = new Map<string, Map<string, Set<string>>>();
  /** Selector mode: service key → pod uid → endpoint. */
  private readonly endpointsOf = new Map<string, Map<string, Endpoint>>();
  /** Waypoint refs resolved during one rebuild/update (Gateways and their objects do not change mid-batch). */
  private waypointMemo = new Map<string, WaypointRef | undefined>();

  constructor(
    private readonly source: SourceView,
    private readonly options: CompileOptions,
  ) {}

  /** Everything compiled now, as model arrays (for tests and snapshots). */
  all<K extends CompiledKind>(kind: K): Map<string, Entry<unknown>> {
    switch (kind) {
      case 'Workload':
        return this.workloads;
      case 'Service':
        return this.services;
      case 'Authorization':
        return this.policies;
      default:
        return this.routeTables;
    }
  }

  /** Compiles everything from the source (first sync, or after the source relisted). */
  rebuild(): ChangeSet {
    this.waypointMemo = new Map();
    this.podsByNs.clear();
    this.servicesByNs.clear();
    this.selectorIndex.clear();
    this.endpointsOf.clear();
    for (const p of listOf(this.source, 'Pod')) this.indexPod(p);
    for (const s of listOf(this.source, 'Service')) this.indexService(s);
    if (this.options.endpoints === 'selectors') {
      // Pod-driven: each pod looks up the Services whose first selector pair it carries, instead of
      // every Service scanning every pod of its namespace.
      for (const [ns, svcs] of this.servicesByNs) for (const name of svcs.keys()) this.endpointsOf.set(`${ns}/${name}`, new Map());
      for (const [ns, pods] of this.podsByNs) {
        for (const p of pods.values()) {
          const ep = this.endpointOf(p);
          if (!ep) continue;
          for (const name of this.servicesSelecting(ns, p.metadata.labels)) this.endpointsOf.get(`${ns}/${name}`)!.set(ep.workloadUid, ep);
        }
      }
    }
    const changes = emptyChangeSet();
    const seenW = new Set<string>();
    for (const pods of this.podsByNs.values()) for (const p of pods.values()) seenW.add(this.compileWorkload(p, changes));
    for (const k of [...this.workloads.keys()]) if (!seenW.has(k)) this.remove(this.workloads, k, 'Workload', changes);
    const seenS = new Set<string>();
    for (const svcs of this.servicesByNs.values()) for (const s of svcs.values()) seenS.add(this.compileService(s, changes, false));
    for (const k of [...this.services.keys()]) if (!seenS.has(k)) this.remove(this.services, k, 'Service', changes);
    const seenP = new Set<string>();
    for (const p of listOf(this.source, 'AuthorizationPolicy')) seenP.add(this.compilePolicy(p, changes));
    for (const k of [...this.policies.keys()]) if (!seenP.has(k)) this.remove(this.policies, k, 'Authorization', changes);
    this.compileRouteTables(changes);
    return changes;
  }

  /** Applies a batch of source changes (the source has already applied them). */
  update(batch: readonly SourceChange[]): ChangeSet {
    this.waypointMemo = new Map();
    const changes = emptyChangeSet();
    const dirtyPods = new Map<string, PodObject | undefined>(); // uid → current (undefined: deleted)
    const dirtyServices = new Set<string>(); // ns/name
    const dirtyEndpoints = new Set<string>(); // ns/name (selector mode): recompute over all pods
    const dirtyPodEndpoints: [string, string][] = []; // (service key, pod uid): recheck one pod
    const dirtyPolicies = new Set<string>();
    const dirtyNamespaces = new Set<string>();
    let bindingsChanged = false;
    let routesDirty = false;

    for (const { type, object } of batch) {
      const ns = object.metadata.namespace ?? '';
      switch (object.kind) {
        case 'Pod': {
          const pod = object as unknown as PodObject;
          const uid = podUid(pod);
          const old = this.podsByNs.get(ns)?.get(uid);
          if (type === 'delete') this.podsByNs.get(ns)?.delete(uid);
          else this.indexPod(pod);
          dirtyPods.set(uid, type === 'delete' ? undefined : pod);
          if (this.options.endpoints === 'selectors') {
            for (const name of this.servicesSelecting(ns, old?.metadata.labels)) dirtyPodEndpoints.push([`${ns}/${name}`, uid]);
            for (const name of this.servicesSelecting(ns, pod.metadata.labels)) dirtyPodEndpoints.push([`${ns}/${name}`, uid]);
          }
          break;
        }
        case 'Service': {
          const svc = object as unknown as ServiceObject;
          this.unindexService(ns, svc.metadata.name);
          if (type !== 'delete') this.indexService(svc);
          dirtyServices.add(`${ns}/${svc.metadata.name}`);
          dirtyEndpoints.add(`${ns}/${svc.metadata.name}`);
          routesDirty = true;
          if (svc.metadata.ownerReferences?.some((o) => o.kind === 'Gateway')) bindingsChanged = true;
          break;
        }
        case 'EndpointSlice': {
          const name = object.metadata.labels?.[SERVICE_NAME_LABEL];
          if (name) dirtyServices.add(`${ns}/${name}`);
          break;
        }
        case 'Namespace':
          dirtyNamespaces.add(object.metadata.name);
          routesDirty = true;
          break;
        case 'Gateway':
        case 'ServiceAccount':
          bindingsChanged = true;
          routesDirty = true;
          break;
        case 'Deployment':
          if (object.metadata.ownerReferences?.some((o) => o.kind === 'Gateway')) {
            bindingsChanged = true;
            routesDirty = true;
          }
          break;
        case 'HTTPRoute':
        case 'GRPCRoute':
        case 'ReferenceGrant': // permits (or no longer permits) cross-namespace backendRefs
          routesDirty = true;
          break;
        case 'AuthorizationPolicy':
          dirtyPolicies.add(`${ns}/${object.metadata.name}`);
          break;
        default:
          break;
      }
    }

    // Namespaces and waypoint bindings affect many objects: recompute those wholesale (rare events).
    for (const ns of dirtyNamespaces) {
      for (const p of this.podsByNs.get(ns)?.values() ?? []) dirtyPods.set(podUid(p), p);
      for (const s of this.servicesByNs.get(ns)?.values() ?? []) dirtyServices.add(`${ns}/${s.metadata.name}`);
    }
    if (bindingsChanged) {
      for (const pods of this.podsByNs.values()) for (const p of pods.values()) dirtyPods.set(podUid(p), p);
      for (const [ns, svcs] of this.servicesByNs) for (const name of svcs.keys()) dirtyServices.add(`${ns}/${name}`);
    }

    for (const [uid, pod] of dirtyPods) {
      if (pod) this.compileWorkload(pod, changes);
      else {
        this.remove(this.workloads, uid, 'Workload', changes); // endpoints: via dirtyPodEndpoints below
      }
    }
    for (const key of dirtyEndpoints) {
      if (this.refreshEndpoints(key)) dirtyServices.add(key);
    }
    for (const [key, uid] of dirtyPodEndpoints) {
      if (!dirtyEndpoints.has(key) && this.refreshPodEndpoint(key, uid)) dirtyServices.add(key);
    }
    for (const key of dirtyServices) {
      const [ns, name] = key.split('/') as [string, string];
      const svc = this.servicesByNs.get(ns)?.get(name);
      if (svc) this.compileService(svc, changes, false);
      else {
        this.endpointsOf.delete(key);
        this.remove(this.services, key, 'Service', changes);
      }
    }
    for (const key of dirtyPolicies) {
      const [ns, name] = key.split('/') as [string, string];
      const p = asKind(this.source.get({ kind: 'AuthorizationPolicy', namespace: ns, name }), 'AuthorizationPolicy');
      if (p) this.compilePolicy(p, changes);
      else this.remove(this.policies, key, 'Authorization', changes);
    }
    if (routesDirty || changes.get('Service')!.size > 0) this.compileRouteTables(changes);
    return changes;
  }

  // ---- indexes -----------------------------------------------------------------------------------

  private indexPod(p: PodObject): void {
    const ns = p.metadata.namespace ?? '';
    let m = this.podsByNs.get(ns);
    if (!m) this.podsByNs.set(ns, (m = new Map<string, PodObject>()));
    m.set(podUid(p), p);
  }

  private indexService(s: ServiceObject): void {
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

  private unindexService(ns: string, name: string): void {
    const old = this.servicesByNs.get(ns)?.get(name);
    if (!old) return;
    this.servicesByNs.get(ns)!.delete(name);
    const pair = firstPair(old.spec?.selector);
    if (pair !== undefined) this.selectorIndex.get(ns)?.get(pair)?.delete(name);
  }

  /** Names of the Services in `ns` whose selector matches `labels`. */
  private servicesSelecting(ns: string, labels: Record<string, string> | undefined): string[] {
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

  private endpointOf(p: PodObject): Endpoint | undefined {
    const ip = podIps(p)[0];
    if (!ip || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
    return { workloadUid: podUid(p), address: ip, ready: podReady(p) };
  }

  /** Selector mode: rechecks one pod against one Service; true when that Service's endpoints changed. */
  private refreshPodEndpoint(key: string, uid: string): boolean {
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.servicesByNs.get(ns)?.get(name);
    if (!svc) return false;
    let eps = this.endpointsOf.get(key);
    if (!eps) this.endpointsOf.set(key, (eps = new Map<string, Endpoint>()));
    const pod = this.podsByNs.get(ns)?.get(uid);
    const next = pod && labelsMatch(svc.spec?.selector, pod.metadata.labels) ? this.endpointOf(pod) : undefined;
    const before = eps.get(uid);
    if (!next) return eps.delete(uid);
    if (before && before.address === next.address && before.ready === next.ready) return false;
    eps.set(uid, next);
    return true;
  }

  private set<T>(map: Map<string, Entry<T>>, key: string, value: T, kind: CompiledKind, changes: ChangeSet): void {
    const old = map.get(key);
    if (old) {
      old.fingerprint ??= JSON.stringify(old.value);
      const fingerprint = JSON.stringify(value);
      if (old.fingerprint === fingerprint) return;
      map.set(key, { value, fingerprint });
    } else {
      map.set(key, { value });
    }
    changes.get(kind)!.add(key);
  }

  private remove<T>(map: Map<string, Entry<T>>, key: string, kind: CompiledKind, changes: ChangeSet): void {
    if (map.delete(key)) changes.get(kind)!.add(key);
  }

  private namespaceLabels(ns: string): Record<string, string> {
    return this.source.get({ kind: 'Namespace', name: ns })?.metadata.labels ?? {};
  }

  // ---- waypoints ---------------------------------------------------------------------------------

  /** The waypoint a Service (`for: 'service'`) or workload (`for: 'workload'`) is bound to, if any. */
  private waypointFor(ns: string, labels: Record<string, string> | undefined, target: 'service' | 'workload'): WaypointRef | undefined {
    const nsLabels = this.namespaceLabels(ns);
    const own = labels?.[LABEL_USE_WAYPOINT];
    const name = own ?? nsLabels[LABEL_USE_WAYPOINT];
    if (!name || name === 'none') return undefined;
    const gwNs = (own ? labels?.[LABEL_USE_WAYPOINT_NAMESPACE] : nsLabels[LABEL_USE_WAYPOINT_NAMESPACE]) ?? ns;
    const gw = asKind(this.source.get({ kind: 'Gateway', namespace: gwNs, name }), 'Gateway');
    if (!gw || gw.spec.gatewayClassName !== WAYPOINT_CLASS) return undefined;
    const forWhat = gw.metadata.labels?.[LABEL_WAYPOINT_FOR] ?? 'service';
    if (forWhat !== 'all' && forWhat !== target) return undefined;
    const key = `${gwNs}/${name}`;
    if (!this.waypointMemo.has(key)) this.waypointMemo.set(key, this.waypointRef(gw));
    return this.waypointMemo.get(key);
  }

  /** Address: the generated Service's VIP (else the Gateway's status address); identity: its SA. */
  waypointRef(gw: GatewayObject): WaypointRef | undefined {
    const ns = gw.metadata.namespace ?? '';
    const name = gw.metadata.name;
    const owned = (o: KubeObject): boolean => o.metadata.namespace === ns && (o.metadata.ownerReferences?.some((r) => r.kind === 'Gateway' && r.name === name) ?? false);
    const svcs = this.servicesByNs.get(ns);
    let svc = svcs ? [...svcs.values()].find((s) => owned(s as unknown as KubeObject)) : undefined;
    svc ??= svcs?.get(name) ?? svcs?.get(`${name}-waypoint`);
    const vip = svc?.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? svc.spec.clusterIP : gw.status?.addresses?.[0]?.value;
    if (!vip) return undefined;
    const deploy = listOf(this.source, 'Deployment').find((d) => owned(d as unknown as KubeObject));
    const sa = deploy?.spec.template.spec.serviceAccountName ?? name;
    return { namespace: ns, name, address: vip, identity: `spiffe://${this.options.trustDomain}/ns/${ns}/sa/${sa}` };
  }

  // ---- workloads ---------------------------------------------------------------------------------

  private compileWorkload(p: PodObject, changes: ChangeSet): string {
    const ns = p.metadata.namespace ?? '';
    const w = workloadOf(p, {
      namespaceLabels: this.namespaceLabels(ns),
      waypoint: this.waypointFor(ns, p.metadata.labels ?? {}, 'workload'),
      mtlsModeDefault: this.options.mtlsModeDefault,
    });
    this.set(this.workloads, w.uid, w, 'Workload', changes);
    return w.uid;
  }

  // ---- services ----------------------------------------------------------------------------------

  /** Selector mode: recomputes one Service's endpoints; true when they changed. */
  private refreshEndpoints(key: string): boolean {
    if (this.options.endpoints !== 'selectors') return false;
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.servicesByNs.get(ns)?.get(name);
    const before = this.endpointsOf.get(key);
    if (!svc) return this.endpointsOf.delete(key);
    const next = new Map<string, Endpoint>();
    const selector = svc.spec?.selector;
    for (const p of this.podsByNs.get(ns)?.values() ?? []) {
      if (!labelsMatch(selector, p.metadata.labels)) continue;
      const ep = this.endpointOf(p);
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

  private sliceEndpoints(ns: string, name: string): Endpoint[] {
    const out: Endpoint[] = [];
    for (const slice of listOf(this.source, 'EndpointSlice')) {
      if (slice.metadata.namespace !== ns || slice.metadata.labels?.[SERVICE_NAME_LABEL] !== name) continue;
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses[0];
        if (!address) continue;
        const uid = e.targetRef?.uid ?? (e.targetRef?.name ? this.podByName(ns, e.targetRef.name)?.metadata.uid : undefined) ?? `${ns}/${address}`;
        out.push({ workloadUid: uid, address, ready: e.conditions?.ready ?? true });
      }
    }
    return out;
  }

  private podByName(ns: string, name: string): PodObject | undefined {
    for (const p of this.podsByNs.get(ns)?.values() ?? []) if (p.metadata.name === name) return p;
    return undefined;
  }

  private compileService(s: ServiceObject, changes: ChangeSet, refresh: boolean): string {
    const ns = s.metadata.namespace ?? '';
    const key = `${ns}/${s.metadata.name}`;
    if (refresh) this.refreshEndpoints(key);
    const endpoints =
      this.options.endpoints === 'selectors'
        ? [...(this.endpointsOf.get(key)?.values() ?? [])].sort((a, b) => (a.workloadUid < b.workloadUid ? -1 : 1))
        : this.sliceEndpoints(ns, s.metadata.name);
    const vips = (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
    const ports: ServicePort[] = (s.spec?.ports ?? []).map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: this.resolveTargetPort(ns, p.targetPort, p.port, endpoints),
      appProtocol: p.appProtocol ?? protocolFromName(p.name),
    }));
    const svc: Service = {
      namespace: ns,
      name: s.metadata.name,
      vips,
      ports,
      endpoints,
      labels: s.metadata.labels ?? {},
      waypoint: this.waypointFor(ns, s.metadata.labels, 'service'),
    };
    if (svc.waypoint === undefined) delete svc.waypoint;
    this.set(this.services, key, svc, 'Service', changes);
    return key;
  }

  /** Numeric target ports pass; a named one resolves through the first endpoint pod that declares it. */
  private resolveTargetPort(ns: string, target: number | string | undefined, port: number, endpoints: readonly Endpoint[]): number {
    if (typeof target === 'number') return target;
    if (target === undefined || target === '') return port;
    if (/^[0-9]+$/.test(target)) return Number(target);
    const pods = this.podsByNs.get(ns);
    for (const e of endpoints) {
      const pod = pods?.get(e.workloadUid);
      for (const c of pod?.spec?.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === target) return cp.containerPort;
    }
    return port;
  }

  // ---- authorization -----------------------------------------------------------------------------

  private compilePolicy(p: AuthorizationPolicyObject, changes: ChangeSet): string {
    const policy = authorizationPolicyOf(p, this.options.trustDomain);
    const key = `${policy.namespace}/${policy.name}`;
    this.set(this.policies, key, policy, 'Authorization', changes);
    return key;
  }

  // ---- routes (routes/compile-routes.ts) ---------------------------------------------------------

  private compileRouteTables(changes: ChangeSet): void {
    const tables = compileRouteTables({
      source: this.source,
      waypointOfService: (ns, name) => this.services.get(`${ns}/${name}`)?.value.waypoint,
      serviceExists: (ns, name) => this.servicesByNs.get(ns)?.has(name) ?? false,
    });
    for (const [key, t] of tables) this.set(this.routeTables, key, t, 'RouteTable', changes);
    for (const key of [...this.routeTables.keys()]) if (!tables.has(key)) this.remove(this.routeTables, key, 'RouteTable', changes);
  }
}
