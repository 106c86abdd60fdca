import type { Headers } from '../upstream/exchange.js';
import { hostCandidates, routeAcceptsHost } from './hostnames.js';
import type { CompiledMatch, RequestFacts } from './match.js';
import { selectRoutes, type PortRoutes } from './route-set.js';

// The route layer's first step: which rule a request matches. The consumer routes of the client's
// namespace, else the producer routes, whose hostnames accept the request; the first match in
// precedence order wins.

class Facts implements RequestFacts {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: string,
    private readonly headers: Headers,
  ) {}

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }
}

/** What the route layer reads of a request. */
export interface RouteQuery {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authority: string;
  readonly grpc: boolean;
}

/** No route applies to the port (or to this client and Host): the request passes through (GAMMA). */
export const PASSTHROUGH = 'passthrough';

/** The matched rule; PASSTHROUGH; or undefined: routes apply but none matches (404). */
export function selectMatch(
  routes: PortRoutes,
  clientNamespace: string | undefined,
  service: { readonly name: string; readonly namespace: string },
  q: RouteQuery,
  headers: Headers,
): CompiledMatch | typeof PASSTHROUGH | undefined {
  const hosts = routes.hostScoped ? hostCandidates(q.authority, service) : undefined;
  const set = selectRoutes(routes, clientNamespace, hosts);
  if (!set) return PASSTHROUGH;
  const facts = new Facts(q.method, q.path, q.query, headers);
  for (const m of set.matches) {
    if (m.grpc && !q.grpc) continue;
    if (hosts !== undefined && !routeAcceptsHost(m.route.hostnames, hosts)) continue;
    if (m.test(facts)) return m;
  }
  return undefined;
}
