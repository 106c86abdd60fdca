import type { GrpcRouteMatch, HttpRouteMatch, HttpRouteRule, Route } from '../../lib/model/index.js';

// Request matching exactly as the Gateway API defines it (apis/v1/httproute_types.go, grpcroute_types.go):
// PathPrefix matches whole path elements (`/v2` matches `/v2` and `/v2/x`, never `/v2example`), a trailing
// `/` in the prefix is ignored, header names are case-insensitive, query parameter names are not, and all
// conditions of one match must hold (AND) while any match of a rule may hold (OR).

/** What matching reads from a request; built once per request by the server that parsed it. */
export interface RequestFacts {
  readonly method: string;
  /** The path without the query string, as sent (not decoded). */
  readonly path: string;
  /** The raw query string without `?`, or '' when absent. */
  readonly query: string;
  /** Header value by lower-case name; several values joined with ','. */
  header(name: string): string | undefined;
}

export type PathKind = 'Exact' | 'PathPrefix' | 'RegularExpression';

/** One match of one rule of one route, compiled to a predicate plus what precedence needs. */
export interface CompiledMatch {
  readonly route: Route;
  /** `namespace/name` of the route: the request's route label, made once here instead of per request. */
  readonly label: string;
  readonly rule: HttpRouteRule;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  /** `HTTPRoute` matches see every request; `GRPCRoute` matches only gRPC requests. */
  readonly grpc: boolean;
  readonly pathKind: PathKind;
  /** Characters of the path value (HTTP) or of the gRPC service value. */
  readonly pathLength: number;
  readonly grpcMethodLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryCount: number;
  /** For URLRewrite/RequestRedirect ReplacePrefixMatch: the matched prefix (PathPrefix matches only). */
  readonly prefix: string | undefined;
  test(req: RequestFacts): boolean;
}

type Predicate = (req: RequestFacts) => boolean;

/** Anchored like RE2 full matches (what Envoy and Istio do for RegularExpression). */
function fullRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

export function pathPrefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/' || p === '') return path.startsWith('/');
  if (!path.startsWith(p)) return false;
  return path.length === p.length || path.charCodeAt(p.length) === 47 /* '/' */;
}

function pathPredicate(kind: PathKind, value: string): Predicate {
  switch (kind) {
    case 'Exact':
      return (req) => req.path === value;
    case 'PathPrefix':
      return (req) => pathPrefixMatches(value, req.path);
    case 'RegularExpression': {
      const re = fullRegex(value);
      return (req) => re.test(req.path);
    }
  }
}

function headerPredicates(headers: readonly { type: 'Exact' | 'RegularExpression'; name: string; value: string }[]): Predicate[] {
  // The spec: when several matches name the same header, only the first one counts.
  const seen = new Set<string>();
  const out: Predicate[] = [];
  for (const h of headers) {
    const name = h.name.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    if (h.type === 'RegularExpression') {
      const re = fullRegex(h.value);
      out.push((req) => {
        const v = req.header(name);
        return v !== undefined && re.test(v);
      });
    } else {
      const value = h.value;
      out.push((req) => req.header(name) === value);
    }
  }
  return out;
}

/** First value of a query parameter (names are case-sensitive); undefined when absent. */
export function queryParam(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (safeDecode(k) === name) return eq < 0 ? '' : safeDecode(part.slice(eq + 1));
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function queryPredicates(params: readonly { type: 'Exact' | 'RegularExpression'; name: string; value: string }[]): Predicate[] {
  const seen = new Set<string>();
  const out: Predicate[] = [];
  for (const q of params) {
    if (seen.has(q.name)) continue;
    seen.add(q.name);
    const name = q.name;
    if (q.type === 'RegularExpression') {
      const re = fullRegex(q.value);
      out.push((req) => {
        const v = queryParam(req.query, name);
        return v !== undefined && re.test(v);
      });
    } else {
      const value = q.value;
      out.push((req) => queryParam(req.query, name) === value);
    }
  }
  return out;
}

function all(preds: Predicate[]): Predicate {
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (req) => {
    for (const p of preds) if (!p(req)) return false;
    return true;
  };
}

function asGrpcMatch(m: HttpRouteMatch | GrpcRouteMatch): GrpcRouteMatch {
  const method = (m as { method?: unknown }).method;
  return { headers: m.headers, method: typeof method === 'object' && method !== null ? (method as GrpcRouteMatch['method']) : undefined };
}

function isGrpcMatch(m: HttpRouteMatch | GrpcRouteMatch): m is GrpcRouteMatch {
  return !('path' in m) && !('queryParams' in m);
}

/** The gRPC service and method of a request path `/<service>/<method>`. */
export function grpcPath(path: string): { service: string; method: string } | undefined {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash < 0) return undefined;
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

function compileHttp(route: Route, rule: HttpRouteRule, ruleIndex: number, matchIndex: number, m: HttpRouteMatch): CompiledMatch {
  const preds = [pathPredicate(m.path.type, m.path.value)];
  if (m.method !== undefined) {
    const method = m.method;
    preds.push((req) => req.method === method);
  }
  const headers = headerPredicates(m.headers);
  const query = queryPredicates(m.queryParams);
  preds.push(...headers, ...query);
  return {
    route,
    label: `${route.namespace}/${route.name}`,
    rule,
    ruleIndex,
    matchIndex,
    grpc: false,
    pathKind: m.path.type,
    pathLength: m.path.value.length,
    grpcMethodLength: 0,
    hasMethod: m.method !== undefined,
    headerCount: headers.length,
    queryCount: query.length,
    prefix: m.path.type === 'PathPrefix' ? m.path.value : undefined,
    test: all(preds),
  };
}

function compileGrpc(route: Route, rule: HttpRouteRule, ruleIndex: number, matchIndex: number, m: GrpcRouteMatch): CompiledMatch {
  const preds: Predicate[] = [];
  const mm = m.method;
  if (mm && (mm.service !== undefined || mm.method !== undefined)) {
    const svc = mm.service === undefined ? undefined : mm.type === 'RegularExpression' ? fullRegex(mm.service) : mm.service;
    const meth = mm.method === undefined ? undefined : mm.type === 'RegularExpression' ? fullRegex(mm.method) : mm.method;
    preds.push((req) => {
      const g = grpcPath(req.path);
      if (!g) return false;
      if (svc !== undefined && !(typeof svc === 'string' ? g.service === svc : svc.test(g.service))) return false;
      if (meth !== undefined && !(typeof meth === 'string' ? g.method === meth : meth.test(g.method))) return false;
      return true;
    });
  }
  const headers = headerPredicates(m.headers);
  preds.push(...headers);
  return {
    route,
    label: `${route.namespace}/${route.name}`,
    rule,
    ruleIndex,
    matchIndex,
    grpc: true,
    pathKind: 'Exact',
    pathLength: mm?.service?.length ?? 0,
    grpcMethodLength: mm?.method?.length ?? 0,
    hasMethod: false,
    headerCount: headers.length,
    queryCount: 0,
    prefix: undefined,
    test: all(preds),
  };
}

const MATCH_ALL_HTTP: HttpRouteMatch = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };
const MATCH_ALL_GRPC: GrpcRouteMatch = { headers: [] };

/** Every match of every rule of a route; a rule without matches matches every request (spec default). */
export function compileRoute(route: Route): CompiledMatch[] {
  const out: CompiledMatch[] = [];
  route.rules.forEach((rule, ri) => {
    const grpcRoute = route.kind === 'GRPCRoute';
    const matches = rule.matches.length > 0 ? rule.matches : [grpcRoute ? MATCH_ALL_GRPC : MATCH_ALL_HTTP];
    matches.forEach((m, mi) => {
      // The model's match union parses a header-only GRPCRoute match as an HTTP match: read it structurally.
      if (grpcRoute) out.push(compileGrpc(route, rule, ri, mi, asGrpcMatch(m)));
      else out.push(compileHttp(route, rule, ri, mi, isGrpcMatch(m) ? MATCH_ALL_HTTP : m));
    });
  });
  return out;
}
