import { RouteSchema, type BackendRef, type BackendTarget, type HttpFilter, type Route, type RouteTable, type WaypointRef } from '../../../lib/model/index.js';
import { listOf, type GRPCRouteObject, type HTTPRouteFilter, type HTTPRouteObject } from '../../sources/schemas.js';
import type { ClusterSource } from '../../sources/source.js';
import { WAYPOINT_CLASS } from '../../../lib/names.js';
import { gatewayDurationMs } from '../../../lib/gateway-duration.js';
import { parseRetryAnnotations } from '../retry-annotations.js';
import { backendRefPermitted, parentVerdict, unsupportedFilters, type RouteObject } from './acceptance.js';

// HTTPRoutes and GRPCRoutes compiled into one route table per waypoint Gateway. A route enters the table
// of its parent Service's waypoint for exactly the parents acceptance.ts accepts, the decision its status
// is written from: a route whose status is not Accepted has no effect anywhere. The route keeps its own
// namespace, which tells the waypoint whether it is a producer or a consumer route.

export interface RouteInputs {
  readonly source: Pick<ClusterSource, 'list' | 'get'>;
  /** The compiled waypoint binding of a Service, if it has one. */
  waypointOfService(namespace: string, name: string): WaypointRef | undefined;
  serviceExists(namespace: string, name: string): boolean;
}

/** Gateway API Duration (GEP-2257) → ms; `0s` (any zero) → null, meaning disabled. */
export function durationToMs(d: string | undefined): number | null | undefined {
  if (d === undefined) return undefined;
  // Validated by GatewayDurationSchema; zero means no timeout.
  return gatewayDurationMs(d) || null;
}

/** Every waypoint Gateway's route table, by `namespace/name`, routes in a stable order. */
export function compileRouteTables(inputs: RouteInputs): Map<string, RouteTable> {
  const tables = new Map<string, RouteTable>();
  for (const gw of listOf(inputs.source, 'Gateway')) {
    if (gw.spec.gatewayClassName !== WAYPOINT_CLASS) continue;
    tables.set(`${gw.metadata.namespace}/${gw.metadata.name}`, { namespace: gw.metadata.namespace ?? '', name: gw.metadata.name, routes: [] });
  }
  const routeObjects: RouteObject[] = [...listOf(inputs.source, 'HTTPRoute'), ...listOf(inputs.source, 'GRPCRoute')];
  for (const r of routeObjects) {
    const ns = r.metadata.namespace ?? '';
    const unsupported = unsupportedFilters(r);
    if (unsupported.length > 0) continue; // not Accepted on any parent
    const byTable = new Map<string, Route['parents']>();
    for (const ref of r.spec.parentRefs ?? []) {
      if (parentVerdict(r, ref, inputs.source, unsupported)?.accepted !== true) continue;
      const svcNs = ref.namespace ?? ns;
      const wp = inputs.waypointOfService(svcNs, ref.name);
      if (!wp) continue;
      const tkey = `${wp.namespace}/${wp.name}`;
      if (!tables.has(tkey)) continue;
      let parents = byTable.get(tkey);
      if (!parents) byTable.set(tkey, (parents = []));
      parents.push(ref.port === undefined ? { namespace: svcNs, name: ref.name } : { namespace: svcNs, name: ref.name, port: ref.port });
    }
    if (byTable.size === 0) continue;
    const route = compileRoute(r, inputs);
    for (const [tkey, parents] of byTable) tables.get(tkey)!.routes.push({ ...route, parents });
  }
  for (const t of tables.values()) t.routes.sort((a, b) => (`${a.kind}/${a.namespace}/${a.name}` < `${b.kind}/${b.namespace}/${b.name}` ? -1 : 1));
  return tables;
}

type BackendObjectRef = { group?: string; kind?: string; name: string; namespace?: string; port?: number; weight?: number };

/**
 * A backendRef resolved for the waypoint. A Service in another namespace than the route's needs a
 * ReferenceGrant there (acceptance.ts backendRefPermitted); without one it stays unresolved (its share
 * answers 500), as the route's ResolvedRefs=False/RefNotPermitted says.
 */
function backend(ns: string, ref: BackendObjectRef, inputs: RouteInputs, routeKind: RouteObject['kind']): BackendTarget {
  const weight = ref.weight ?? 1;
  const port = ref.port;
  if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') {
    return { weight, port, invalidReason: `InvalidKind: backend ${ref.group ?? ''}/${ref.kind ?? ''} ${ref.name} is not a Service` };
  }
  const svcNs = ref.namespace ?? ns;
  if (!backendRefPermitted(inputs.source, routeKind, ns, { namespace: svcNs, name: ref.name })) {
    return { weight, port, invalidReason: `RefNotPermitted: backend Service ${svcNs}/${ref.name} is in another namespace than the route and no ReferenceGrant in ${svcNs} allows it` };
  }
  if (!inputs.serviceExists(svcNs, ref.name)) {
    return { weight, port, invalidReason: `BackendNotFound: Service ${svcNs}/${ref.name} does not exist` };
  }
  if (port === undefined) return { service: { namespace: svcNs, name: ref.name }, weight, invalidReason: 'UnsupportedValue: backendRef.port is required for a Service' };
  return { service: { namespace: svcNs, name: ref.name }, port, weight };
}

/** One filter in the model; only called for routes whose filters are all supported (acceptance.ts). */
function filter(ns: string, f: HTTPRouteFilter, inputs: RouteInputs, kind: RouteObject['kind']): HttpFilter | undefined {
  const headers = (h: { set?: { name: string; value: string }[]; add?: { name: string; value: string }[]; remove?: string[] } | undefined) => ({
    set: (h?.set ?? []).map((x) => ({ name: x.name, value: x.value })),
    add: (h?.add ?? []).map((x) => ({ name: x.name, value: x.value })),
    remove: h?.remove ?? [],
  });
  const path = (p: { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; replaceFullPath?: string; replacePrefixMatch?: string } | undefined) =>
    p === undefined
      ? undefined
      : p.type === 'ReplaceFullPath'
        ? { type: 'ReplaceFullPath' as const, replaceFullPath: p.replaceFullPath ?? '/' }
        : { type: 'ReplacePrefixMatch' as const, replacePrefixMatch: p.replacePrefixMatch ?? '/' };
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: f.type, requestHeaderModifier: headers(f.requestHeaderModifier) };
    case 'ResponseHeaderModifier':
      return { type: f.type, responseHeaderModifier: headers(f.responseHeaderModifier) };
    case 'RequestRedirect': {
      const r = f.requestRedirect ?? {};
      return { type: f.type, requestRedirect: { scheme: r.scheme, hostname: r.hostname, path: path(r.path), port: r.port, statusCode: r.statusCode ?? 302 } };
    }
    case 'URLRewrite':
      return { type: f.type, urlRewrite: { hostname: f.urlRewrite?.hostname, path: path(f.urlRewrite?.path) } };
    case 'RequestMirror': {
      const m = f.requestMirror!;
      const percent = m.percent ?? (m.fraction ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : undefined);
      return { type: f.type, requestMirror: { backendRef: backend(ns, m.backendRef, inputs, kind), percent } };
    }
    default:
      return undefined; // ExtensionRef, CORS: acceptance.ts refuses routes that have them, so never reached
  }
}

function filters(ns: string, list: readonly HTTPRouteFilter[] | undefined, inputs: RouteInputs, kind: RouteObject['kind']): HttpFilter[] {
  const out: HttpFilter[] = [];
  for (const f of list ?? []) {
    const compiled = filter(ns, f, inputs, kind);
    if (compiled) out.push(compiled);
  }
  return out;
}

function compileRoute(r: RouteObject, inputs: RouteInputs): Route {
  const ns = r.metadata.namespace ?? '';
  const isGrpc = r.kind === 'GRPCRoute';
  // gRPC retry codes have no field in either route kind: they come from annotations (see retry-annotations.ts).
  const annotated = parseRetryAnnotations(r.metadata.annotations);
  const rules = (r.spec.rules ?? []).map((rule) => {
    const http = rule as NonNullable<HTTPRouteObject['spec']['rules']>[number];
    const matches = isGrpc
      ? ((rule.matches ?? []) as NonNullable<NonNullable<GRPCRouteObject['spec']['rules']>[number]['matches']>).map((m) => ({
          method: m.method ? { type: m.method.type ?? 'Exact', service: m.method.service, method: m.method.method } : undefined,
          headers: (m.headers ?? []).map((h) => ({ type: h.type ?? 'Exact', name: h.name, value: h.value })),
        }))
      : (http.matches ?? []).map((m) => ({
          path: { type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' },
          headers: (m.headers ?? []).map((h) => ({ type: h.type ?? 'Exact', name: h.name, value: h.value })),
          queryParams: (m.queryParams ?? []).map((q) => ({ type: q.type ?? 'Exact', name: q.name, value: q.value })),
          method: m.method,
        }));
    const requestMs = isGrpc ? undefined : durationToMs(http.timeouts?.request);
    const backendRequestMs = isGrpc ? undefined : durationToMs(http.timeouts?.backendRequest);
    const spec = isGrpc ? undefined : http.retry;
    const retry =
      spec === undefined && annotated.grpcCodes === undefined
        ? undefined
        : {
            codes: spec?.codes ?? [],
            grpcCodes: annotated.grpcCodes ?? [],
            attempts: spec?.attempts ?? annotated.attempts ?? 1,
            backoffMs: durationToMs(spec?.backoff) ?? annotated.backoffMs,
          };
    return {
      name: rule.name,
      matches,
      filters: filters(ns, rule.filters, inputs, r.kind),
      backendRefs: (rule.backendRefs ?? []).map((b) => {
        const ref: BackendRef = backend(ns, b, inputs, r.kind);
        // A backendRef's own filters apply only to requests sent to it (absent when it has none).
        return b.filters && b.filters.length > 0 ? { ...ref, filters: filters(ns, b.filters, inputs, r.kind) } : ref;
      }),
      timeouts: requestMs === undefined && backendRequestMs === undefined ? undefined : { requestMs, backendRequestMs },
      retry,
    };
  });
  // Parse through the model schema: fills its defaults and guarantees the wire carries valid routes.
  return RouteSchema.parse(
    JSON.parse(
      JSON.stringify({
        kind: r.kind,
        namespace: ns,
        name: r.metadata.name,
        creationTimestamp: r.metadata.creationTimestamp,
        parents: [],
        hostnames: r.spec.hostnames ?? [],
        rules,
      }),
    ),
  );
}
