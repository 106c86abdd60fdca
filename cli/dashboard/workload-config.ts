import type { PolicyRow } from '../../lib/admin/index.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import type { GrpcRouteMatch, HttpRouteMatch, Route } from '../../lib/model/index.js';
import { adminGet, type AdminEndpoint } from '../admin/admin-client.js';
import { componentLabel, type AdminComponent } from '../admin/admin-target.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { Gateway, Node } from '../../lib/kube/resources.js';
import type { PolicySummary, RouteSummary, WorkloadKey } from './dashboard-api.js';

/**
 * A workload's routes and policies, as the components that enforce them hold them (their admin endpoints,
 * as `weft get` reads them): the routes of the waypoints of its namespace that attach to or send to one
 * of its Services, and the AuthorizationPolicies of its namespace held by the node agents and those
 * waypoints. A component that does not answer is named in `unreachable`, not left out in silence.
 */
export interface WorkloadConfig {
  readonly routes: RouteSummary[];
  readonly policies: PolicySummary[];
  readonly unreachable: string[];
}

export type EndpointOf = (c: AdminComponent) => Promise<AdminEndpoint>;

export async function readWorkloadConfig(client: ClusterClient, endpointOf: EndpointOf, w: WorkloadKey, services: readonly string[]): Promise<WorkloadConfig> {
  const [gateways, nodes] = await Promise.all([client.list(Gateway, { namespace: w.namespace }), client.list(Node)]);
  const waypoints: AdminComponent[] = gateways.filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS).map((g) => ({ kind: 'waypoint', namespace: w.namespace, name: g.metadata.name }));
  const agents: AdminComponent[] = nodes.map((n) => ({ kind: 'agent', node: n.metadata.name }));
  const unreachable: string[] = [];
  const ask = async <T>(c: AdminComponent, path: string): Promise<T | undefined> => {
    try {
      return await adminGet<T>(await endpointOf(c), path);
    } catch (err) {
      unreachable.push(`${componentLabel(c)}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  const routes: RouteSummary[] = [];
  const held = new Map<string, PolicySummary & { heldBy: string[] }>();
  await Promise.all([
    ...waypoints.map(async (c) => {
      const dump = await ask<{ routes?: Route[] }>(c, '/config_dump');
      for (const r of dump?.routes ?? []) if (touches(r, services)) routes.push(routeSummary(c, r));
    }),
    ...[...waypoints, ...agents].map(async (c) => {
      const answer = await ask<{ policies: PolicyRow[] }>(c, '/debug/policies');
      for (const p of answer?.policies ?? []) {
        if (p.namespace !== w.namespace) continue;
        const k = `${p.namespace}/${p.name}`;
        const entry = held.get(k) ?? { ...p, heldBy: [] };
        entry.heldBy.push(componentLabel(c));
        held.set(k, entry);
      }
    }),
  ]);
  routes.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const policies = [...held.values()].map((p) => ({ ...p, heldBy: p.heldBy.sort() })).sort((a, b) => a.name.localeCompare(b.name));
  return { routes, policies, unreachable: unreachable.sort() };
}

const svc = (s: { namespace?: string; name: string }, ns: string): string => `${s.namespace ?? ns}/${s.name}`;

/** Does the route attach to, or send to, one of `services` (`namespace/name`)? */
function touches(r: Route, services: readonly string[]): boolean {
  const parents = r.parents.map((p) => svc(p, r.namespace));
  const backends = r.rules.flatMap((rule) => rule.backendRefs.flatMap((b) => (b.service ? [svc(b.service, r.namespace)] : [])));
  return [...parents, ...backends].some((s) => services.includes(s));
}

function routeSummary(c: AdminComponent, r: Route): RouteSummary {
  return {
    waypoint: c.kind === 'waypoint' ? `${c.namespace}/${c.name}` : '',
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    parents: r.parents.map((p) => `${svc(p, r.namespace)}${p.port !== undefined ? `:${p.port}` : ''}`),
    rules: r.rules.map((rule) => ({
      matches: rule.matches.length === 0 ? 'any' : rule.matches.map(matchText).join(' or '),
      backends: rule.backendRefs.map((b) => (b.service ? `${svc(b.service, r.namespace)}:${b.port ?? '?'} (weight ${b.weight})` : `unresolved (${b.invalidReason ?? 'no Service'})`)).join(', ') || 'none',
    })),
  };
}

/** `GET PathPrefix /api, header x-user=alice`, `grpc echo.Echo/Say`: a rule's match as people read it. */
function matchText(m: HttpRouteMatch | GrpcRouteMatch): string {
  const parts: string[] = [];
  if ('path' in m) {
    if (m.method !== undefined) parts.push(m.method);
    parts.push(`${m.path.type} ${m.path.value}`);
    for (const q of m.queryParams) parts.push(`query ${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`);
  } else {
    parts.push(`grpc ${m.method?.service ?? '*'}/${m.method?.method ?? '*'}`);
  }
  for (const h of m.headers) parts.push(`header ${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`);
  return parts.join(', ');
}
