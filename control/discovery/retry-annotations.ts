// Retries a route cannot say in its spec. Gateway API's GRPCRoute has no `retry` field and HTTPRoute's
// `retry.codes` are HTTP codes only, while an API server prunes unknown spec fields; so, as Linkerd does
// with `retry.linkerd.io/grpc`, gRPC retries are asked for with annotations on the route:
//   retry.weft.dev/grpc-codes: "unavailable, resource-exhausted"   (names as in grpc's status codes, or numbers)
//   retry.weft.dev/attempts:   "3"                                  (retries after the first try)
//   retry.weft.dev/backoff:    "25ms"                               (Gateway API duration)
// A bad value is left out and reported in the route's status (PartiallyInvalid), never fails the route.

import { gatewayDurationMs } from '../../lib/gateway-duration.js';

export const RETRY_GRPC_CODES_ANNOTATION = 'retry.weft.dev/grpc-codes';
export const RETRY_ATTEMPTS_ANNOTATION = 'retry.weft.dev/attempts';
export const RETRY_BACKOFF_ANNOTATION = 'retry.weft.dev/backoff';

const GRPC_CODES: Readonly<Record<string, number>> = {
  cancelled: 1,
  unknown: 2,
  'invalid-argument': 3,
  'deadline-exceeded': 4,
  'not-found': 5,
  'already-exists': 6,
  'permission-denied': 7,
  'resource-exhausted': 8,
  'failed-precondition': 9,
  aborted: 10,
  'out-of-range': 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  'data-loss': 15,
  unauthenticated: 16,
};

/** Gateway API Duration (GEP-2257): up to 4 units of h/m/s/ms, e.g. `1s`, `250ms`, `1m30s`. */
const MAX_ATTEMPTS = 20;

export interface RetryAnnotations {
  readonly grpcCodes?: number[];
  readonly attempts?: number;
  readonly backoffMs?: number;
  /** What was wrong, one entry per bad annotation (empty when all were fine or absent). */
  readonly problems: string[];
}

function grpcCode(token: string): number | undefined {
  const t = token.trim().toLowerCase().replace(/_/g, '-');
  if (/^\d{1,2}$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= 16 ? n : undefined;
  }
  return GRPC_CODES[t];
}

export function parseRetryAnnotations(annotations: Readonly<Record<string, string>> | undefined): RetryAnnotations {
  const problems: string[] = [];
  let grpcCodes: number[] | undefined;
  let attempts: number | undefined;
  let backoffMs: number | undefined;
  const codes = annotations?.[RETRY_GRPC_CODES_ANNOTATION];
  if (codes !== undefined) {
    const tokens = codes.split(',').filter((t) => t.trim() !== '');
    const parsed = tokens.map(grpcCode);
    const bad = tokens.filter((_, i) => parsed[i] === undefined);
    if (bad.length > 0 || tokens.length === 0) {
      problems.push(`${RETRY_GRPC_CODES_ANNOTATION}: ${bad.length ? `unknown gRPC code(s) ${bad.map((b) => `"${b.trim()}"`).join(', ')}` : 'empty'}; use names like "unavailable" or numbers 1–16`);
    }
    const good = parsed.filter((n): n is number => n !== undefined);
    if (good.length > 0) grpcCodes = [...new Set(good)].sort((a, b) => a - b);
  }
  const a = annotations?.[RETRY_ATTEMPTS_ANNOTATION];
  if (a !== undefined) {
    if (/^\d{1,3}$/.test(a.trim()) && Number(a) <= MAX_ATTEMPTS) attempts = Number(a);
    else problems.push(`${RETRY_ATTEMPTS_ANNOTATION}: "${a}" is not a whole number from 0 to ${MAX_ATTEMPTS}`);
  }
  const b = annotations?.[RETRY_BACKOFF_ANNOTATION];
  if (b !== undefined) {
    backoffMs = gatewayDurationMs(b.trim());
    if (backoffMs === undefined) problems.push(`${RETRY_BACKOFF_ANNOTATION}: "${b}" is not a Gateway API duration such as "25ms" or "1s"`);
  }
  return { grpcCodes, attempts, backoffMs, problems };
}
