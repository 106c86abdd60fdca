import { asKind, listOf, type Condition, type ParentReference, type RouteParentStatus, type RouteStatus } from '../sources/schemas.js';
import type { ClusterSource } from '../sources/source.js';
import { parseRetryAnnotations } from '../discovery/retry-annotations.js';
import { backendRefPermitted, isServiceRef, parentVerdict, unsupportedFilters, type RouteObject } from '../discovery/routes/acceptance.js';
import { WEFT_CONTROLLER_NAME, condition } from './conditions.js';

// The Accepted decision lives with the route tables (control/discovery/routes/acceptance.ts), so status and
// effect cannot disagree; re-exported here for the status code that reads waypoint bindings.
export { USE_WAYPOINT_LABEL, waypointOf, type RouteObject, type WaypointBinding } from '../discovery/routes/acceptance.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

type BackendObjectRef = { group?: string; kind?: string; name: string; namespace?: string; port?: number };

/** Every Service a route sends to: its backendRefs and the targets of its RequestMirror filters. */
function backendReferences(route: RouteObject): { b: BackendObjectRef; what: string }[] {
  const out: { b: BackendObjectRef; what: string }[] = [];
  const mirrors = (filters: readonly { requestMirror?: { backendRef: BackendObjectRef } }[] | undefined): void => {
    for (const f of filters ?? []) if (f.requestMirror) out.push({ b: f.requestMirror.backendRef, what: 'RequestMirror backendRef' });
  };
  for (const rule of route.spec.rules ?? []) {
    mirrors(rule.filters);
    for (const b of rule.backendRefs ?? []) {
      out.push({ b, what: 'backendRef' });
      mirrors(b.filters);
    }
  }
  return out;
}

/**
 * `ResolvedRefs` of a route (the same for every parent; gateway-api RouteConditionReason: ResolvedRefs |
 * InvalidKind | RefNotPermitted | BackendNotFound). A backend in another namespace needs a ReferenceGrant
 * there (acceptance.ts backendRefPermitted, the same decision the route tables are compiled from).
 */
function resolvedRefs(route: RouteObject, source: Pick<ClusterSource, 'get' | 'list'>, previous: readonly Condition[] | undefined, now?: Date): Condition {
  const ns = route.metadata.namespace ?? 'default';
  const problems: { reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; message: string }[] = [];
  for (const { b, what } of backendReferences(route)) {
    if (!isServiceRef(b.group, b.kind, 'Service')) {
      problems.push({ reason: 'InvalidKind', message: `${what} ${b.group ?? ''}/${b.kind ?? ''} ${b.name}: only Services are supported` });
      continue;
    }
    const bns = b.namespace ?? ns;
    if (!backendRefPermitted(source, route.kind, ns, { namespace: bns, name: b.name })) {
      problems.push({ reason: 'RefNotPermitted', message: `${what} to Service ${bns}/${b.name} crosses namespaces and no ReferenceGrant in ${bns} allows ${route.kind}s from ${ns} to refer to it` });
      continue;
    }
    const svc = asKind(source.get({ kind: 'Service', namespace: bns, name: b.name }), 'Service');
    if (svc === undefined) {
      problems.push({ reason: 'BackendNotFound', message: `Service ${bns}/${b.name} not found` });
    } else if (b.port === undefined) {
      problems.push({ reason: 'BackendNotFound', message: `${what} to Service ${bns}/${b.name} needs a port` });
    } else if (!(svc.spec?.ports ?? []).some((p) => p.port === b.port)) {
      problems.push({ reason: 'BackendNotFound', message: `Service ${bns}/${b.name} has no port ${b.port}` });
    }
  }
  const gen = route.metadata.generation;
  if (problems.length === 0) return condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', gen, previous, now);
  const order = ['InvalidKind', 'RefNotPermitted', 'BackendNotFound'] as const;
  const reason = order.find((r) => problems.some((p) => p.reason === r)) ?? 'BackendNotFound';
  return condition('ResolvedRefs', false, reason, problems.map((p) => p.message).join('; '), gen, previous, now);
}

/** `Accepted` for one parentRef weft answers for, or undefined when the parent is not weft's. */
function accepted(route: RouteObject, ref: ParentReference, source: Pick<ClusterSource, 'get'>, unsupported: readonly string[], previous: readonly Condition[] | undefined, now?: Date): Condition | undefined {
  const v = parentVerdict(route, ref, source, unsupported);
  return v && condition('Accepted', v.accepted, v.reason, v.message, route.metadata.generation, previous, now);
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
export function routeStatus(route: RouteObject, source: Pick<ClusterSource, 'get' | 'list'>, now?: Date): RouteStatus {
  const existing = route.status?.parents ?? [];
  const others = existing.filter((p) => p.controllerName !== WEFT_CONTROLLER_NAME);
  const ours: RouteParentStatus[] = [];
  const unsupported = unsupportedFilters(route);
  for (const ref of route.spec.parentRefs ?? []) {
    const prev = existing.find((p) => p.controllerName === WEFT_CONTROLLER_NAME && sameParent(p.parentRef, ref))?.conditions;
    const acc = accepted(route, ref, source, unsupported, prev, now);
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
