import { PeerWorkloads, type Service, type ServicePort, type StateView } from '../../lib/model/index.js';
import { NO_DESTINATION, destinationLabels } from '../metrics.js';
import { EndpointStats } from '../balance/p2c-ewma.js';
import type { EndpointEntry } from '../balance/balancer.js';
import { portRoutes, type PortRoutes } from './route-set.js';
import { ServicePortMap } from './service-port-map.js';
import { prepareSplit, type WeightedPick } from './split.js';
import type { HttpRouteRule } from '../../lib/model/index.js';
import { realClock, type Clock } from '../../lib/clock.js';
import { AuthzPolicies, type WaypointPolicies } from '../../lib/authz/index.js';

// What the request path reads, derived from the state view once per change (never per request): routes
// compiled and ordered per Service port, backends with their endpoints and balancing state. Endpoint
// statistics survive rebuilds, keyed by address:port.

export type { EndpointEntry };

export interface Backend {
  /** `namespace/name:port` for metrics and logs. */
  readonly label: string;
  readonly service: Service;
  readonly port: ServicePort;
  readonly endpoints: readonly EndpointEntry[];
}

export interface Gateway {
  readonly namespace: string;
  readonly name: string;
}

export class StateIndex {
  private routesByPort = new ServicePortMap<PortRoutes>();
  private backends = new ServicePortMap<Backend | null>();
  private readonly stats = new Map<string, EndpointStats>();
  private readonly splits = new WeakMap<HttpRouteRule, WeightedPick>();
  private readonly onChange = (): void => this.rebuild();
  private readonly authz: AuthzPolicies;

  constructor(
    private readonly view: StateView,
    readonly gateway: Gateway,
    private readonly clock: Clock = realClock,
    /** Names each endpoint's owning workload for the request metrics' destination labels. */
    private readonly peers: PeerWorkloads = new PeerWorkloads(view),
  ) {
    this.authz = new AuthzPolicies(view, () => this.trustDomain);
    view.on('change', this.onChange);
    this.rebuild();
  }

  close(): void {
    this.view.off('change', this.onChange);
  }

  get trustDomain(): string {
    return this.view.trustBundle()?.trustDomain ?? 'cluster.local';
  }

  /** The Service and port addressed by a tunnel's `:authority` (the parent is chosen by VIP, not Host). */
  serviceFor(vip: string, port: number): { service: Service; port: ServicePort } | undefined {
    const service = this.view.serviceByVip(vip);
    if (!service) return undefined;
    const sp = service.ports.find((p) => p.port === port);
    return sp ? { service, port: sp } : undefined;
  }

  /** The routes attached to the Service port: producer routes and consumer routes by client namespace. */
  routes(service: Service, port: number): PortRoutes {
    let r = this.routesByPort.get(service.namespace, service.name, port);
    if (!r) {
      const table = this.view.routeTable(this.gateway.namespace, this.gateway.name);
      this.routesByPort.set(service.namespace, service.name, port, (r = portRoutes(table?.routes ?? [], service.namespace, service.name, port)));
    }
    return r;
  }

  /**
   * L7 policies that apply to requests for `service` at this waypoint (targets: this Gateway or the
   * Service), as a handle a connection keeps: each request reads the policies current at that time.
   */
  policies(service: Service): WaypointPolicies {
    return this.authz.atWaypoint(this.gateway, service);
  }

  split(rule: HttpRouteRule): WeightedPick {
    let s = this.splits.get(rule);
    if (!s) this.splits.set(rule, (s = prepareSplit(rule.backendRefs)));
    return s;
  }

  /** A backend Service port with its ready endpoints; undefined when the Service or port does not exist. */
  backend(namespace: string, name: string, port: number | undefined): Backend | undefined {
    const key = port ?? -1;
    const cached = this.backends.get(namespace, name, key);
    if (cached !== undefined) return cached ?? undefined;
    const service = this.view.service(namespace, name);
    const sp = service && (port === undefined ? service.ports[0] : service.ports.find((p) => p.port === port));
    if (!service || !sp) {
      this.backends.set(namespace, name, key, null);
      return undefined;
    }
    const endpoints: EndpointEntry[] = [];
    for (const ep of service.endpoints) {
      if (!ep.ready) continue;
      const w = this.view.workloadByUid(ep.workloadUid);
      const identity = w ? `spiffe://${this.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}` : undefined;
      const ekey = `${ep.address}:${sp.targetPort}`;
      let stats = this.stats.get(ekey);
      if (!stats) this.stats.set(ekey, (stats = new EndpointStats(ekey, undefined, undefined, this.clock.now())));
      const labels = w ? destinationLabels(this.peers.of(w), identity) : NO_DESTINATION;
      endpoints.push({ key: ekey, endpoint: { address: ep.address, port: sp.targetPort, identity }, stats, labels });
    }
    const b: Backend = { label: `${namespace}/${name}:${sp.port}`, service, port: sp, endpoints };
    this.backends.set(namespace, name, key, b);
    return b;
  }

  /** Keys of all endpoints currently known, for closing connections to removed ones. */
  endpointKeys(): Set<string> {
    const keys = new Set<string>();
    for (const s of this.view.services()) for (const p of s.ports) for (const e of s.endpoints) keys.add(`${e.address}:${p.targetPort}`);
    return keys;
  }

  /** A JSON view for /config_dump. */
  dump(): unknown {
    const table = this.view.routeTable(this.gateway.namespace, this.gateway.name);
    const services = [...this.view.services()].filter((s) => s.waypoint?.name === this.gateway.name && s.waypoint.namespace === this.gateway.namespace);
    const endpoints = [...this.stats.entries()].map(([k, s]) => ({
      endpoint: k,
      ewmaMs: Math.round(s.rttMs * 100) / 100,
      pending: s.pending,
      ejected: s.outlier.ejected(this.clock.now()),
      ejections: s.outlier.ejectionCount,
    }));
    return { gateway: this.gateway, services, routes: table?.routes ?? [], endpoints };
  }

  private rebuild(): void {
    this.routesByPort = new ServicePortMap();
    this.backends = new ServicePortMap();
    const keep = this.endpointKeys();
    for (const k of this.stats.keys()) if (!keep.has(k)) this.stats.delete(k);
  }
}
