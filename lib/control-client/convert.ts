import type { z } from 'zod';
import { WeftError } from '../errors/index.js';
import {
  schemaByKind,
  RESOURCE_KINDS,
  HttpFilterSchema,
  type AuthorizationPolicy,
  type HttpRouteMatch,
  type GrpcRouteMatch,
  type ResourceByKind,
  type ResourceKind,
  type Route,
  type RouteTable,
  type Service,
  type TrustBundleData,
  type WaypointRef,
  type Workload,
} from '../model/index.js';
import type * as pb from '../../api/gen/weft/v1/resources.js';

// lib/model ↔ weft.v1 protobuf, used by the control plane (to send) and the data-plane client (to
// receive). Receiving validates through the model's zod schemas, so a data plane never stores a
// resource its readers cannot trust (conversion happens before the StateStore write, STYLE.md #8).

export function isResourceKind(kind: string): kind is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(kind);
}

// ---- model → proto -------------------------------------------------------------------------------

function waypointToProto(w: WaypointRef | undefined): pb.WaypointRef | undefined {
  return w ? { namespace: w.namespace, name: w.name, address: w.address, identity: w.identity } : undefined;
}

export function workloadToProto(w: Workload): pb.Workload {
  return {
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount,
    node: w.node,
    ips: w.ips,
    labels: w.labels,
    captured: w.captured,
    waypoint: waypointToProto(w.waypoint),
    ports: w.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    phase: w.phase,
    ready: w.ready,
    netns: w.netns,
    mtlsMode: w.mtlsMode,
    workloadName: w.workloadName ?? '',
  };
}

export function serviceToProto(s: Service): pb.Service {
  return {
    namespace: s.namespace,
    name: s.name,
    vips: s.vips,
    ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, appProtocol: p.appProtocol })),
    endpoints: s.endpoints.map((e) => ({ workloadUid: e.workloadUid, address: e.address, ready: e.ready })),
    labels: s.labels,
    waypoint: waypointToProto(s.waypoint),
  };
}

export function authorizationToProto(p: AuthorizationPolicy): pb.Authorization {
  return {
    namespace: p.namespace,
    name: p.name,
    action: p.action,
    dryRun: p.dryRun === true,
    targets: p.targets.map((t) => ({
      kind: t.kind,
      matchLabels: t.kind === 'selector' ? t.matchLabels : {},
      name: t.kind === 'service' || t.kind === 'gateway' ? t.name : '',
    })),
    rules: p.rules.map((r) => ({
      from: r.from.map((f) => ({
        principals: f.principals ?? [],
        notPrincipals: f.notPrincipals ?? [],
        namespaces: f.namespaces ?? [],
        notNamespaces: f.notNamespaces ?? [],
        ipBlocks: f.ipBlocks ?? [],
        notIpBlocks: f.notIpBlocks ?? [],
      })),
      to: r.to.map((t) => ({
        ports: t.ports ?? [],
        notPorts: t.notPorts ?? [],
        methods: t.methods ?? [],
        paths: t.paths ?? [],
        notMethods: t.notMethods ?? [],
        notPaths: t.notPaths ?? [],
      })),
    })),
  };
}

function timeoutToProto(ms: number | null | undefined): pb.Timeout | undefined {
  if (ms === undefined) return undefined;
  return ms === null ? { disabled: true } : { ms, disabled: false };
}

function matchToProto(kind: Route['kind'], m: HttpRouteMatch | GrpcRouteMatch): pb.RouteMatch {
  const headers = m.headers.map((h) => ({ type: h.type, name: h.name, value: h.value }));
  if (kind === 'GRPCRoute') {
    const g = m as GrpcRouteMatch;
    return { path: undefined, headers, queryParams: [], grpcMethod: g.method ? { ...g.method } : undefined };
  }
  const h = m as HttpRouteMatch;
  return {
    path: { type: h.path.type, name: '', value: h.path.value },
    headers,
    queryParams: h.queryParams.map((q) => ({ type: q.type, name: q.name, value: q.value })),
    httpMethod: h.method,
    grpcMethod: undefined,
  };
}

function routeToProto(r: Route): pb.Route {
  return {
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    creationTimestamp: r.creationTimestamp,
    parents: r.parents.map((p) => ({ namespace: p.namespace, name: p.name, port: p.port })),
    hostnames: r.hostnames,
    rules: r.rules.map((rule) => ({
      name: rule.name,
      matches: rule.matches.map((m) => matchToProto(r.kind, m)),
      filtersJson: rule.filters.length > 0 ? JSON.stringify(rule.filters) : '',
      backendRefs: rule.backendRefs.map((b) => ({
        service: b.service ? { namespace: b.service.namespace, name: b.service.name } : undefined,
        port: b.port,
        weight: b.weight,
        invalidReason: b.invalidReason,
        filtersJson: b.filters && b.filters.length > 0 ? JSON.stringify(b.filters) : '',
      })),
      requestTimeout: timeoutToProto(rule.timeouts?.requestMs),
      backendRequestTimeout: timeoutToProto(rule.timeouts?.backendRequestMs),
      retry: rule.retry ? { ...rule.retry } : undefined,
    })),
  };
}

export function routeTableToProto(t: RouteTable): pb.RouteTable {
  return { namespace: t.namespace, name: t.name, routes: t.routes.map(routeToProto) };
}

export function trustBundleToProto(t: TrustBundleData): pb.TrustBundle {
  return { trustDomain: t.trustDomain, rootsPem: t.roots };
}

export function resourceToProto<K extends ResourceKind>(kind: K, r: ResourceByKind[K]): pb.Resource {
  switch (kind) {
    case 'Workload':
      return { workload: workloadToProto(r as Workload) };
    case 'Service':
      return { service: serviceToProto(r as Service) };
    case 'Authorization':
      return { authorization: authorizationToProto(r as AuthorizationPolicy) };
    case 'RouteTable':
      return { routeTable: routeTableToProto(r as RouteTable) };
    default:
      return { trustBundle: trustBundleToProto(r as TrustBundleData) };
  }
}

// ---- proto → model -------------------------------------------------------------------------------

function waypointFromProto(w: pb.WaypointRef | undefined): WaypointRef | undefined {
  return w ? { namespace: w.namespace, name: w.name, address: w.address, identity: w.identity } : undefined;
}

const nonEmpty = <T>(a: T[]): T[] | undefined => (a.length > 0 ? a : undefined);

function timeoutFromProto(t: pb.Timeout | undefined): number | null | undefined {
  if (!t) return undefined;
  return t.disabled ? null : (t.ms ?? undefined);
}

function matchFromProto(kind: string, m: pb.RouteMatch): unknown {
  const headers = m.headers.map((h) => ({ type: h.type, name: h.name, value: h.value }));
  if (kind === 'GRPCRoute') return { method: m.grpcMethod ? { ...m.grpcMethod } : undefined, headers };
  return {
    path: m.path ? { type: m.path.type, value: m.path.value } : undefined,
    headers,
    queryParams: m.queryParams.map((q) => ({ type: q.type, name: q.name, value: q.value })),
    method: m.httpMethod,
  };
}

function rawFromProto(kind: ResourceKind, r: pb.Resource): unknown {
  switch (kind) {
    case 'Workload': {
      const w = r.workload;
      if (!w) return undefined;
      // An older control plane sends no mode: empty means the default (permissive).
      return { ...w, waypoint: waypointFromProto(w.waypoint), ports: w.ports.map((p) => ({ ...p })), mtlsMode: w.mtlsMode || undefined, workloadName: w.workloadName || undefined };
    }
    case 'Service': {
      const s = r.service;
      if (!s) return undefined;
      return { ...s, waypoint: waypointFromProto(s.waypoint) };
    }
    case 'Authorization': {
      const p = r.authorization;
      if (!p) return undefined;
      return {
        namespace: p.namespace,
        name: p.name,
        action: p.action,
        ...(p.dryRun ? { dryRun: true } : {}),
        targets: p.targets.map((t) =>
          t.kind === 'selector' ? { kind: t.kind, matchLabels: t.matchLabels } : t.kind === 'namespace' ? { kind: t.kind } : { kind: t.kind, name: t.name },
        ),
        rules: p.rules.map((rule) => ({
          from: rule.from.map((f) => ({
            principals: nonEmpty(f.principals),
            notPrincipals: nonEmpty(f.notPrincipals),
            namespaces: nonEmpty(f.namespaces),
            notNamespaces: nonEmpty(f.notNamespaces),
            ipBlocks: nonEmpty(f.ipBlocks),
            notIpBlocks: nonEmpty(f.notIpBlocks),
          })),
          to: rule.to.map((t) => ({
            ports: nonEmpty(t.ports),
            notPorts: nonEmpty(t.notPorts),
            methods: nonEmpty(t.methods),
            paths: nonEmpty(t.paths),
            notMethods: nonEmpty(t.notMethods),
            notPaths: nonEmpty(t.notPaths),
          })),
        })),
      };
    }
    case 'RouteTable': {
      const t = r.routeTable;
      if (!t) return undefined;
      return {
        namespace: t.namespace,
        name: t.name,
        routes: t.routes.map((route) => ({
          kind: route.kind,
          namespace: route.namespace,
          name: route.name,
          creationTimestamp: route.creationTimestamp || undefined,
          parents: route.parents.map((p) => ({ ...p })),
          hostnames: route.hostnames,
          rules: route.rules.map((rule) => {
            const requestMs = timeoutFromProto(rule.requestTimeout);
            const backendRequestMs = timeoutFromProto(rule.backendRequestTimeout);
            return {
              name: rule.name,
              matches: rule.matches.map((m) => matchFromProto(route.kind, m)),
              filters: rule.filtersJson ? HttpFilterSchema.array().parse(JSON.parse(rule.filtersJson)) : [],
              backendRefs: rule.backendRefs.map(({ filtersJson, ...b }) => ({
                ...b,
                service: b.service ? { ...b.service } : undefined,
                ...(filtersJson ? { filters: HttpFilterSchema.array().parse(JSON.parse(filtersJson)) } : {}),
              })),
              timeouts: requestMs === undefined && backendRequestMs === undefined ? undefined : { requestMs, backendRequestMs },
              retry: rule.retry ? { ...rule.retry } : undefined,
            };
          }),
        })),
      };
    }
    case 'TrustBundle': {
      const t = r.trustBundle;
      return t ? { trustDomain: t.trustDomain, roots: t.rootsPem } : undefined;
    }
  }
}

/** Converts and validates one received resource; throws ERR_WEFT_CONTROL_INVALID_RESOURCE. */
export function resourceFromProto<K extends ResourceKind>(kind: K, r: pb.Resource): ResourceByKind[K] {
  let raw: unknown;
  try {
    raw = rawFromProto(kind, r);
  } catch (err) {
    throw new WeftError('ERR_WEFT_CONTROL_INVALID_RESOURCE', { kind, reason: (err as Error).message }, { cause: err });
  }
  if (raw === undefined) throw new WeftError('ERR_WEFT_CONTROL_INVALID_RESOURCE', { kind, reason: 'upsert of another kind' });
  const schema = schemaByKind[kind] as unknown as z.ZodType<ResourceByKind[K]>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new WeftError('ERR_WEFT_CONTROL_INVALID_RESOURCE', { kind, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  return parsed.data;
}
