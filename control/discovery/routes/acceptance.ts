import { asKind, listOf, type GRPCRouteObject, type HTTPRouteObject, type ParentReference, type ServiceObject } from '../../sources/schemas.js';
import type { ClusterSource } from '../../sources/source.js';
import { LABEL_USE_WAYPOINT, LABEL_WAYPOINT_FOR, WAYPOINT_CLASS } from '../../../lib/names.js';

// Whether weft accepts a route for one of its parents: the one decision both the route's status
// (control/status/routes.ts) and the route tables (compile-routes.ts) are made from, so a route takes
// effect exactly where its status says Accepted (ARCHITECTURE.md). A route in the parent Service's
// namespace is a producer route (every client); one in another namespace is a consumer route (GAMMA):
// the waypoint applies it only to clients of the route's own namespace. A filter weft does not implement,
// on a rule or on a backendRef, refuses the whole route rather than run it without that filter.

export type RouteObject = HTTPRouteObject | GRPCRouteObject;

export { LABEL_USE_WAYPOINT as USE_WAYPOINT_LABEL } from '../../../lib/names.js';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Filter types the waypoint implements, per route kind (waypoint/route/apply-filters.ts). */
const SUPPORTED_FILTERS: Record<RouteObject['kind'], ReadonlySet<string>> = {
  HTTPRoute: new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror']),
  GRPCRoute: new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror']),
};

export interface WaypointBinding {
  /** Name of the waypoint Gateway in the Service's namespace, when bound to one that exists. */
  readonly gateway?: string;
  /** Its `weft.dev/waypoint-for` (default `service`). */
  readonly serves?: string;
  /** Why there is none (for status messages). */
  readonly why?: string;
}

/**
 * The waypoint a Service's traffic goes through: `weft.dev/use-waypoint` on the Service, else on its
 * Namespace (`none` opts out), naming a Gateway of class weft-waypoint in the same namespace.
 */
export function waypointOf(source: Pick<ClusterSource, 'get'>, namespace: string, labels: Record<string, string> | undefined): WaypointBinding {
  const ns = source.get({ kind: 'Namespace', name: namespace });
  const name = labels?.[LABEL_USE_WAYPOINT] ?? ns?.metadata.labels?.[LABEL_USE_WAYPOINT];
  if (name === undefined || name === '' || name === 'none') {
    return { why: `neither it nor namespace ${namespace} has the label ${LABEL_USE_WAYPOINT}` };
  }
  const gw = asKind(source.get({ kind: 'Gateway', namespace, name }), 'Gateway');
  if (gw === undefined || gw.spec.gatewayClassName !== WAYPOINT_CLASS) {
    return { why: `${LABEL_USE_WAYPOINT}=${name} names no Gateway of class weft-waypoint in namespace ${namespace}` };
  }
  return { gateway: name, serves: gw.metadata.labels?.[LABEL_WAYPOINT_FOR] ?? 'service' };
}

export function isServiceRef(group: string | undefined, kind: string | undefined, defaultKind: string): boolean {
  const k = kind ?? defaultKind;
  return k === 'Service' && (group === undefined || group === '' || group === 'core');
}

/**
 * Whether a route of `routeKind` in `routeNamespace` may send to Service `namespace`/`name`: always in its
 * own namespace; across namespaces only when a ReferenceGrant in the Service's namespace lets routes of
 * that kind from the route's namespace refer to that Service (`to` naming it, or naming no Service: all).
 */
export function backendRefPermitted(
  source: Pick<ClusterSource, 'list'>,
  routeKind: RouteObject['kind'],
  routeNamespace: string,
  service: { namespace: string; name: string },
): boolean {
  if (service.namespace === routeNamespace) return true;
  for (const g of listOf(source, 'ReferenceGrant')) {
    if (g.metadata.namespace !== service.namespace) continue;
    const from = g.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === routeKind && f.namespace === routeNamespace);
    if (!from) continue;
    if (g.spec.to.some((t) => (t.group === '' || t.group === 'core') && t.kind === 'Service' && (t.name === undefined || t.name === service.name))) return true;
  }
  return false;
}

/** Whether `ref` is a parent weft answers for: a Service, or a weft waypoint Gateway (which it refuses). */
export function isOurParent(ref: ParentReference, routeNamespace: string, source: Pick<ClusterSource, 'get'>): boolean {
  const group = ref.group ?? GATEWAY_GROUP;
  const kind = ref.kind ?? 'Gateway';
  if (group === GATEWAY_GROUP && kind === 'Gateway') {
    const gw = asKind(source.get({ kind: 'Gateway', namespace: ref.namespace ?? routeNamespace, name: ref.name }), 'Gateway');
    return gw?.spec.gatewayClassName === WAYPOINT_CLASS;
  }
  return isServiceRef(ref.group, ref.kind, 'Gateway');
}

/** The filters of a route weft cannot apply (rule and backendRef filters), as messages; empty when none. */
export function unsupportedFilters(route: RouteObject): string[] {
  const supported = SUPPORTED_FILTERS[route.kind];
  const out: string[] = [];
  const check = (filters: readonly { type: string; requestMirror?: unknown }[] | undefined, where: string): void => {
    for (const f of filters ?? []) {
      if (!supported.has(f.type)) out.push(`${where}: filter ${f.type} is not supported by weft's waypoint`);
      else if (f.type === 'RequestMirror' && f.requestMirror === undefined) out.push(`${where}: RequestMirror filter without requestMirror`);
    }
  };
  (route.spec.rules ?? []).forEach((rule, i) => {
    check(rule.filters, `rule ${i}`);
    (rule.backendRefs ?? []).forEach((b, j) => check(b.filters, `rule ${i} backendRef ${j}`));
  });
  return out;
}

export interface ParentVerdict {
  readonly accepted: boolean;
  /** Gateway API RouteConditionReason for `Accepted`. */
  readonly reason: 'Accepted' | 'NoMatchingParent' | 'NotAllowedByListeners' | 'UnsupportedValue';
  readonly message: string;
}

/**
 * `Accepted` for one parentRef of a route, or undefined when the parent is not weft's (another
 * implementation's Gateway, an unknown kind). `unsupported` is unsupportedFilters(route), computed once
 * per route by callers that judge several parents.
 */
export function parentVerdict(
  route: RouteObject,
  ref: ParentReference,
  source: Pick<ClusterSource, 'get'>,
  unsupported: readonly string[] = unsupportedFilters(route),
): ParentVerdict | undefined {
  const ns = route.metadata.namespace ?? 'default';
  if (!isOurParent(ref, ns, source)) return undefined;
  if (!isServiceRef(ref.group, ref.kind, 'Gateway')) {
    return { accepted: false, reason: 'NotAllowedByListeners', message: 'weft waypoints take routes through a Service parentRef (GAMMA), not the Gateway itself' };
  }
  if (unsupported.length > 0) return { accepted: false, reason: 'UnsupportedValue', message: `the route has no effect: ${unsupported.join('; ')}` };
  const sns = ref.namespace ?? ns;
  const svc: ServiceObject | undefined = asKind(source.get({ kind: 'Service', namespace: sns, name: ref.name }), 'Service');
  if (svc === undefined) return { accepted: false, reason: 'NoMatchingParent', message: `Service ${sns}/${ref.name} not found` };
  if (ref.port !== undefined && !(svc.spec?.ports ?? []).some((p) => p.port === ref.port)) {
    return { accepted: false, reason: 'NoMatchingParent', message: `Service ${sns}/${ref.name} has no port ${ref.port}` };
  }
  const binding = waypointOf(source, sns, svc.metadata.labels);
  if (binding.gateway === undefined) {
    return { accepted: false, reason: 'NoMatchingParent', message: `Service ${sns}/${ref.name} has no waypoint (${binding.why ?? ''}); weft applies routes at waypoints only` };
  }
  if (binding.serves !== 'service' && binding.serves !== 'all') {
    return { accepted: false, reason: 'NoMatchingParent', message: `waypoint ${sns}/${binding.gateway} has ${LABEL_WAYPOINT_FOR}=${binding.serves ?? ''}: it takes no Service traffic, so routes of ${sns}/${ref.name} cannot apply` };
  }
  if (sns !== ns) {
    return { accepted: true, reason: 'Accepted', message: `Consumer route applied by waypoint ${sns}/${binding.gateway} to clients in namespace ${ns} only` };
  }
  return { accepted: true, reason: 'Accepted', message: `Route applied by waypoint ${sns}/${binding.gateway}` };
}
