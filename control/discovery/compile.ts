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
import { LABEL_USE_WAYPOINT, LABEL_USE_WAYPOINT_NAMESPACE, LABEL_WAYPOINT_FOR, WAYPOINT_CLASS } from '../../lib/names.js';
import type { ClusterSource, KubeObject, SourceChange } from '../sources/source.js';
import { authorizationPolicyOf } from './compile-policy.js';
import { podUid, workloadOf } from './compile-workload.js';
import { PodServiceIndex } from './pod-service-index.js';
import { SelectorEndpoints } from './selector-endpoints.js';
import { EndpointSliceIndex } from './slice-index.js';
import { compileRouteTables } from './routes/compile-routes.js';
import {
  asKind,
  listOf,
  type AuthorizationPolicyObject,
  type GatewayObject,
  type PodObject,
  type ServiceObject,
} from '../sources/schemas.js';

// Compiles the cluster source's typed objects into lib/model resources (issue 6, "Destination and
// policy"). Incremental: a change marks only what it can affect dirty (a pod: its workload and the
// Services in its namespace whose selector matched before or after; a Service: itself and the route
// tables; a Namespace: everything in it; a Gateway or its generated objects: every binding), then
// recomputes those and reports the keys whose output really changed, by comparing a serialised
// fingerprint, so no-op updates never reach a watcher.


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

  private readonly index = new PodServiceIndex();
  /** Selector mode's endpoints. */
  private readonly endpoints = new SelectorEndpoints(this.index);
  /** Cluster mode's endpoints: EndpointSlices by Service. */
  private readonly slices = new EndpointSliceIndex();
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
    this.index.clear();
    for (const p of listOf(this.source, 'Pod')) this.index.indexPod(p);
    for (const s of listOf(this.source, 'Service')) this.index.indexService(s);
    if (this.options.endpoints === 'selectors') this.endpoints.rebuild();
    this.slices.clear();
    if (this.options.endpoints === 'endpointslices') for (const slice of listOf(this.source, 'EndpointSlice')) this.slices.apply(slice, false);
    const changes = emptyChangeSet();
    const seenW = new Set<string>();
    for (const p of this.index.allPods()) seenW.add(this.compileWorkload(p, changes));
    for (const k of [...this.workloads.keys()]) if (!seenW.has(k)) this.remove(this.workloads, k, 'Workload', changes);
    const seenS = new Set<string>();
    for (const s of this.index.allServices()) seenS.add(this.compileService(s, changes));
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
          const old = this.index.pod(ns, uid);
          if (type === 'delete') this.index.deletePod(ns, uid);
          else this.index.indexPod(pod);
          dirtyPods.set(uid, type === 'delete' ? undefined : pod);
          if (this.options.endpoints === 'selectors') {
            for (const name of this.index.servicesSelecting(ns, old?.metadata.labels)) dirtyPodEndpoints.push([`${ns}/${name}`, uid]);
            for (const name of this.index.servicesSelecting(ns, pod.metadata.labels)) dirtyPodEndpoints.push([`${ns}/${name}`, uid]);
          }
          break;
        }
        case 'Service': {
          const svc = object as unknown as ServiceObject;
          this.index.unindexService(ns, svc.metadata.name);
          if (type !== 'delete') this.index.indexService(svc);
          dirtyServices.add(`${ns}/${svc.metadata.name}`);
          dirtyEndpoints.add(`${ns}/${svc.metadata.name}`);
          routesDirty = true;
          if (svc.metadata.ownerReferences?.some((o) => o.kind === 'Gateway')) bindingsChanged = true;
          break;
        }
        case 'EndpointSlice': {
          const slice = asKind(object, 'EndpointSlice');
          if (slice && this.options.endpoints === 'endpointslices') for (const key of this.slices.apply(slice, type === 'delete')) dirtyServices.add(key);
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
      for (const p of this.index.podsIn(ns)?.values() ?? []) dirtyPods.set(podUid(p), p);
      for (const s of this.index.servicesIn(ns)?.values() ?? []) dirtyServices.add(`${ns}/${s.metadata.name}`);
    }
    if (bindingsChanged) {
      for (const p of this.index.allPods()) dirtyPods.set(podUid(p), p);
      for (const s of this.index.allServices()) dirtyServices.add(`${s.metadata.namespace ?? ''}/${s.metadata.name}`);
    }

    for (const [uid, pod] of dirtyPods) {
      if (pod) this.compileWorkload(pod, changes);
      else {
        this.remove(this.workloads, uid, 'Workload', changes); // endpoints: via dirtyPodEndpoints below
      }
    }
    for (const key of dirtyEndpoints) {
      if (this.options.endpoints === 'selectors' && this.endpoints.refresh(key)) dirtyServices.add(key);
    }
    for (const [key, uid] of dirtyPodEndpoints) {
      if (!dirtyEndpoints.has(key) && this.endpoints.refreshPod(key, uid)) dirtyServices.add(key);
    }
    for (const key of dirtyServices) {
      const [ns, name] = key.split('/') as [string, string];
      const svc = this.index.service(ns, name);
      if (svc) this.compileService(svc, changes);
      else {
        this.endpoints.delete(key);
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

  // ---- change tracking ---------------------------------------------------------------------------

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
    const svcs = this.index.servicesIn(ns);
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

  private sliceEndpoints(ns: string, name: string): Endpoint[] {
    const out: Endpoint[] = [];
    for (const slice of this.slices.slicesOf(ns, name)) {
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses[0];
        if (!address) continue;
        const uid = e.targetRef?.uid ?? (e.targetRef?.name ? this.index.podByName(ns, e.targetRef.name)?.metadata.uid : undefined) ?? `${ns}/${address}`;
        out.push({ workloadUid: uid, address, ready: e.conditions?.ready ?? true });
      }
    }
    return out;
  }

  private compileService(s: ServiceObject, changes: ChangeSet): string {
    const ns = s.metadata.namespace ?? '';
    const key = `${ns}/${s.metadata.name}`;
    const endpoints =
      this.options.endpoints === 'selectors'
        ? this.endpoints.list(key)
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
    const pods = this.index.podsIn(ns);
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
      serviceExists: (ns, name) => this.index.service(ns, name) !== undefined,
    });
    for (const [key, t] of tables) this.set(this.routeTables, key, t, 'RouteTable', changes);
    for (const key of [...this.routeTables.keys()]) if (!tables.has(key)) this.remove(this.routeTables, key, 'RouteTable', changes);
  }
}
