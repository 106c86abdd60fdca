import type { Route } from '../../lib/model/index.js';
import { routeAcceptsHost } from './hostnames.js';
import { compileRoute, type CompiledMatch } from './match.js';
import { orderMatches } from './precedence.js';

// Which routes apply to a request for one Service port (GAMMA). A route in the parent Service's own
// namespace is a producer route and applies to every client; a route in another namespace is a consumer
// route and applies only to clients of its own namespace, for whom it replaces the producer routes. A
// route applies only when its hostnames accept the request's Host. When no route applies the request
// passes through to the Service unchanged; when routes apply but no rule matches, it answers 404.

export interface RouteSet {
  readonly routes: readonly Route[];
  /** Every match of those routes, in precedence order. */
  readonly matches: readonly CompiledMatch[];
}

export interface PortRoutes {
  readonly producer: RouteSet;
  /** Consumer routes by the namespace of the clients they apply to. */
  readonly consumers: ReadonlyMap<string, RouteSet>;
  /** Some route here has hostnames: the request's Host must be read to choose. */
  readonly hostScoped: boolean;
}

const EMPTY: RouteSet = { routes: [], matches: [] };

/** Groups the routes attached to `namespace/name:port` into producer and per-namespace consumer sets. */
export function portRoutes(routes: readonly Route[], namespace: string, name: string, port: number): PortRoutes {
  const producer: Route[] = [];
  const consumers = new Map<string, Route[]>();
  let hostScoped = false;
  for (const route of routes) {
    // parentRef.port narrows the route to that one Service port.
    const attached = route.parents.some((p) => p.namespace === namespace && p.name === name && (p.port === undefined || p.port === port));
    if (!attached) continue;
    if (route.hostnames.length > 0) hostScoped = true;
    if (route.namespace === namespace) producer.push(route);
    else {
      let list = consumers.get(route.namespace);
      if (!list) consumers.set(route.namespace, (list = []));
      list.push(route);
    }
  }
  const sets = new Map<string, RouteSet>();
  for (const [ns, list] of consumers) sets.set(ns, routeSet(list));
  return { producer: producer.length > 0 ? routeSet(producer) : EMPTY, consumers: sets, hostScoped };
}

function routeSet(routes: Route[]): RouteSet {
  const matches: CompiledMatch[] = [];
  for (const r of routes) matches.push(...compileRoute(r));
  return { routes, matches: orderMatches(matches) };
}

function applies(set: RouteSet | undefined, hosts: readonly string[] | undefined): boolean {
  if (!set) return false;
  for (const r of set.routes) if (routeAcceptsHost(r.hostnames, hosts)) return true;
  return false;
}

/**
 * The routes for a client of namespace `clientNamespace` asking for `hosts` (from hostCandidates, only
 * when `hostScoped`), or undefined: no route applies and the request passes through.
 */
export function selectRoutes(p: PortRoutes, clientNamespace: string | undefined, hosts: readonly string[] | undefined): RouteSet | undefined {
  const consumer = clientNamespace === undefined ? undefined : p.consumers.get(clientNamespace);
  if (applies(consumer, hosts)) return consumer;
  return applies(p.producer, hosts) ? p.producer : undefined;
}
