import {
  asKind,
  listOf,
  type Condition,
  type GRPCRouteObject,
  type HTTPRouteObject,
  type ParentReference,
  type RouteParentStatus,
  type RouteStatus,
  type ServiceObject,
} from '../sources/schemas.js';
import type { ClusterSource } from '../sources/source.js';
import { parseRetryAnnotations } from '../discovery/retry-annotations.js';
import { WEFT_CONTROLLER_NAME, condition } from './conditions.js';

export const USE_WAYPOINT_LABEL = 'weft.dev/use-waypoint';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export type RouteObject = HTTPRouteObject | GRPCRouteObject;

export interface WaypointBinding {
  /** Name of the waypoint Gateway in the Service's namespace, when bound to one that exists. */
  readonly gateway?: string;
  /** Why there is none (for status messages). */
  readonly why?: string;
}

/**
 * The waypoint a Service's traffic goes through: `weft.dev/use-waypoint` on the Service, else on its
 * Namespace (`none` opts out), naming a Gateway of class weft-waypoint in the same namespace.
 */
export function waypointOf(source: Pick<ClusterSource, 'get'>, namespace: string, labels: Record<string, string> | undefined): WaypointBinding {
  const ns = source.get({ kind: 'Namespace', name: namespace });
  const name = labels?.[USE_WAYPOINT_LABEL] ?? ns?.metadata.labels?.[USE_WAYPOINT_LABEL];
  if (name === undefined || name === '' || name === 'none') {
    return { why: `neither it nor namespace ${namespace} has the label ${USE_WAYPOINT_LABEL}` };
  }
  const gw = asKind(source.get({ kind: 'Gateway', namespace, name }), 'Gateway');
  if (gw === undefined || gw.spec.gatewayClassName !== 'weft-waypoint') {
    return { why: `${USE_WAYPOINT_LABEL}=${name} names no Gateway of class weft-waypoint in namespace ${namespace}` };
  }
  return { gateway: name };
}

function isServiceRef(group: string | undefined, kind: string | undefined, defaultKind: string): boolean {
  const k = kind ?? defaultKind;
  return k === 'Service' && (group === undefined || group === '' || group === 'core');
}

/**
 * `ResolvedRefs` of a route (the same for every parent; gateway-api RouteConditionReason: ResolvedRefs |
 * InvalidKind | RefNotPermitted | BackendNotFound). Cross-namespace backends would need a ReferenceGrant,
 * which weft does not read, so they are not permitted.
 */
function resolvedRefs(route: RouteObject, source: Pick<ClusterSource, 'get'>, previous: readonly Condition[] | undefined, now?: Date): Condition {
  const ns = route.metadata.namespace ?? 'default';
  const problems: { reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; message: string }[] = [];
  for (const rule of route.spec.rules ?? []) {
    for (const b of rule.backendRefs ?? []) {
      if (!isServiceRef(b.group, b.kind, 'Service')) {
        problems.push({ reason: 'InvalidKind', message: `backendRef ${b.group ?? ''}/${b.kind ?? ''} ${b.name}: only Services are supported` });
        continue;
      }
      const bns = b.namespace ?? ns;
      if (bns !== ns) {
        problems.push({ reason: 'RefNotPermitted', message: `backendRef to Service ${bns}/${b.name} crosses namespaces (ReferenceGrant is not supported)` });
        continue;
      }
      const svc = asKind(source.get({ kind: 'Service', namespace: bns, name: b.name }), 'Service');
      if (svc === undefined) {
        problems.push({ reason: 'BackendNotFound', message: `Service ${bns}/${b.name} not found` });
      } else if (b.port === undefined) {
        problems.push({ reason: 'BackendNotFound', message: `backendRef to Service ${bns}/${b.name} needs a port` });
      } else if (!(svc.spec?.ports ?? []).some((p) => p.port === b.port)) {
        problems.push({ reason: 'BackendNotFound', message: `Service ${bns}/${b.name} has no port ${b.port}` });
      }
    }
  }
  const gen = route.metadata.generation;
  if (problems.length === 0) return condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', gen, previous, now);
  const order = ['InvalidKind', 'RefNotPermitted', 'BackendNotFound'] as const;
  const reason = order.find((r) => problems.some((p) => p.reason === r)) ?? 'BackendNotFound';
  return condition('ResolvedRefs', false, reason, problems.map((p) => p.message).join('; '), gen, previous, now);
}

/** `Accepted` for one parentRef weft answers for, or undefined when the parent is not weft's. */
function accepted(route: RouteObject, ref: ParentReference, source: Pick<ClusterSource, 'get'>, previous: readonly Condition[] | undefined, now?: Date): Condition | undefined {
  const ns = route.metadata.namespace ?? 'default';
  const gen = route.metadata.generation;
  const group = ref.group ?? GATEWAY_GROUP;
  const kind = ref.kind ?? 'Gateway';
  if (group === GATEWAY_GROUP && kind === 'Gateway') {
    const gw = asKind(source.get({ kind: 'Gateway', namespace: ref.namespace ?? ns, name: ref.name }), 'Gateway');
    if (gw?.spec.gatewayClassName !== 'weft-waypoint') return undefined; // another implementation's Gateway
    return condition('Accepted', false, 'NotAllowedByListeners', 'weft waypoints take routes through a Service parentRef (GAMMA), not the Gateway itself', gen, previous, now);
  }
  if (!isServiceRef(ref.group, ref.kind, 'Gateway')) return undefined;
  const sns = ref.namespace ?? ns;
  if (sns !== ns) {
    return condition('Accepted', false, 'UnsupportedValue', `parentRef to Service ${sns}/${ref.name} in another namespace (a consumer route) is not supported`, gen, previous, now);
  }
  const svc: ServiceObject | undefined = asKind(source.get({ kind: 'Service', namespace: sns, name: ref.name }), 'Service');
  if (svc === undefined) return condition('Accepted', false, 'NoMatchingParent', `Service ${sns}/${ref.name} not found`, gen, previous, now);
  if (ref.port !== undefined && !(svc.spec?.ports ?? []).some((p) => p.port === ref.port)) {
    return condition('Accepted', false, 'NoMatchingParent', `Service ${sns}/${ref.name} has no port ${ref.port}`, gen, previous, now);
  }
  const binding = waypointOf(source, sns, svc.metadata.labels);
  if (binding.gateway === undefined) {
    return condition('Accepted', false, 'NoMatchingParent', `Service ${sns}/${ref.name} has no waypoint (${binding.why ?? ''}); weft applies routes at waypoints only`, gen, previous, now);
  }
  return condition('Accepted', true, 'Accepted', `Route applied by waypoint ${sns}/${binding.gateway}`, gen, previous, now);
}

function sameParent(a: ParentReference, b: ParentReference): boolean {
  return (
    (a.group ?? GATEWAY_GROUP) === (b.group ?? GATEWAY_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

/**
 * The route's status with weft's entry per parent it answers for (Accepted + ResolvedRefs), keeping the
 * entries other controllers wrote.
 */
export function routeStatus(route: RouteObject, source: Pick<ClusterSource, 'get'>, now?: Date): RouteStatus {
  const existing = route.status?.parents ?? [];
  const others = existing.filter((p) => p.controllerName !== WEFT_CONTROLLER_NAME);
  const ours: RouteParentStatus[] = [];
  for (const ref of route.spec.parentRefs ?? []) {
    const prev = existing.find((p) => p.controllerName === WEFT_CONTROLLER_NAME && sameParent(p.parentRef, ref))?.conditions;
    const acc = accepted(route, ref, source, prev, now);
    if (acc === undefined) continue;
    const conditions = [acc, resolvedRefs(route, source, prev, now)];
    // Bad retry annotations are left out, the rest of the route applies: Gateway API's PartiallyInvalid.
    const { problems } = parseRetryAnnotations(route.metadata.annotations);
    if (problems.length > 0) conditions.push(condition('PartiallyInvalid', true, 'UnsupportedValue', `ignored: ${problems.join('; ')}`, route.metadata.generation, prev, now));
    ours.push({ parentRef: ref, controllerName: WEFT_CONTROLLER_NAME, conditions });
  }
  return { ...route.status, parents: [...others, ...ours] };
}

/** Status for a route that failed validation: Accepted=False/UnsupportedValue on each Service parent it names. */
export function invalidRouteStatus(raw: unknown, reason: string, previous: RouteStatus | undefined, now?: Date): RouteStatus | undefined {
  const spec = (raw as { spec?: { parentRefs?: unknown } } | undefined)?.spec;
  const refs = Array.isArray(spec?.parentRefs) ? (spec.parentRefs as unknown[]) : [];
  const generation = (raw as { metadata?: { generation?: unknown } } | undefined)?.metadata?.generation;
  const gen = typeof generation === 'number' ? generation : undefined;
  const parents: RouteParentStatus[] = [];
  for (const r of refs) {
    const ref = r as ParentReference;
    if (typeof ref !== 'object' || ref === null || typeof ref.name !== 'string') continue;
    if (!isServiceRef(ref.group, ref.kind, 'Gateway')) continue;
    const parentRef: ParentReference = { name: ref.name };
    if (typeof ref.group === 'string') parentRef.group = ref.group;
    if (typeof ref.kind === 'string') parentRef.kind = ref.kind;
    if (typeof ref.namespace === 'string') parentRef.namespace = ref.namespace;
    if (typeof ref.port === 'number') parentRef.port = ref.port;
    const prev = previous?.parents?.find((p) => p.controllerName === WEFT_CONTROLLER_NAME && sameParent(p.parentRef, parentRef))?.conditions;
    parents.push({ parentRef, controllerName: WEFT_CONTROLLER_NAME, conditions: [condition('Accepted', false, 'UnsupportedValue', `invalid route: ${reason}`, gen, prev, now)] });
  }
  if (parents.length === 0) return undefined;
  const others = (previous?.parents ?? []).filter((p) => p.controllerName !== WEFT_CONTROLLER_NAME);
  return { parents: [...others, ...parents] };
}

export function allRoutes(source: ClusterSource): RouteObject[] {
  return [...listOf(source, 'HTTPRoute'), ...listOf(source, 'GRPCRoute')];
}
