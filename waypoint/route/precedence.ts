import type { Route } from '../../lib/model/index.js';
import type { CompiledMatch } from './match.js';

// Precedence across ALL routes attached to one Service port, as httproute_types.go orders it: an Exact
// path, then the longest PathPrefix (in characters), then a method match, then the most header matches,
// then the most query-param matches; remaining ties go to the oldest route, then to "{namespace}/{name}"
// in alphabetical order, and within one route to the first rule (and match) in list order.
// RegularExpression precedence is implementation-specific: weft ranks it below every PathPrefix.
// GRPCRoute (grpcroute_types.go): most characters in the service, then in the method, then most headers.

const PATH_RANK = { Exact: 3, PathPrefix: 2, RegularExpression: 1 } as const;

function routeOrder(a: Route, b: Route): number {
  if (a === b) return 0;
  const ta = Date.parse(a.creationTimestamp);
  const tb = Date.parse(b.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Negative when `a` takes precedence over `b`. */
export function comparePrecedence(a: CompiledMatch, b: CompiledMatch): number {
  // gRPC matches are consulted first for gRPC requests and never for others, so the two kinds never tie.
  if (a.grpc !== b.grpc) return a.grpc ? -1 : 1;
  if (a.grpc) {
    if (a.pathLength !== b.pathLength) return b.pathLength - a.pathLength;
    if (a.grpcMethodLength !== b.grpcMethodLength) return b.grpcMethodLength - a.grpcMethodLength;
  } else {
    if (a.pathKind !== b.pathKind) return PATH_RANK[b.pathKind] - PATH_RANK[a.pathKind];
    if (a.pathLength !== b.pathLength) return b.pathLength - a.pathLength;
    if (a.hasMethod !== b.hasMethod) return a.hasMethod ? -1 : 1;
  }
  if (a.headerCount !== b.headerCount) return b.headerCount - a.headerCount;
  if (a.queryCount !== b.queryCount) return b.queryCount - a.queryCount;
  const r = routeOrder(a.route, b.route);
  if (r !== 0) return r;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

/** Sorted so that the first match whose `test` holds is the one the spec selects. */
export function orderMatches(matches: CompiledMatch[]): CompiledMatch[] {
  return matches.sort(comparePrecedence);
}
