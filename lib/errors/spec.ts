/**
 * The short flags of refusals and abnormal ends: the access log's `outcome`, the `response_flags` metric
 * label, the HBONE `x-weft-flag` header and the waypoint's `x-weft-reason`. A closed set: a new one is
 * added here, with its meaning, and used only through an error code that carries it.
 */
export type RefusalFlag =
  /** an AuthorizationPolicy (or strict mTLS) refused the peer */
  | 'DENY'
  /** a control-plane caller's token was not accepted */
  | 'AUTHN'
  /** the control plane could not be reached */
  | 'CONTROL'
  /** the next hop could not be reached, refused the tunnel, or reset it */
  | 'CONNECT'
  /** a certificate or handshake failed */
  | 'TLS'
  /** no workload certificate (yet) for the pod on this side */
  | 'IDENTITY'
  /** the input is not what the protocol expects */
  | 'BAD_REQUEST'
  /** the upstream answered something the proxy cannot forward */
  | 'BAD_RESPONSE'
  /** the destination is the proxy itself (its own ports, loopback) */
  | 'SELF_CALL'
  /** a HBONE CONNECT for an address this pod's agent does not serve */
  | 'UNKNOWN_DST'
  /** a Service with no ready endpoint */
  | 'NO_ENDPOINT'
  /** no Service for the address the waypoint was asked for */
  | 'NO_SERVICE'
  /** no route matched */
  | 'NO_ROUTE'
  /** a route's backend cannot be used */
  | 'INVALID_BACKEND'
  /** the upstream failed the request */
  | 'UPSTREAM'
  /** a timeout ran out */
  | 'TIMEOUT'
  /** a per-pod or per-source connection bound was hit */
  | 'LIMIT'
  /** the pod was released while the connection was open */
  | 'POD_GONE';

/**
 * The shape of one entry in weft's error table. Each area (identity, hbone, cni, ...) keeps its codes in
 * `lib/errors/codes/<area>.ts`; `lib/errors/codes.ts` joins them into the one table that code, docs and
 * tests read. Codes are `ERR_WEFT_<AREA>_<WHAT>`; a retired code is never reused.
 */
export interface ErrorSpec {
  /** Template; `{name}` is replaced by the value of `params.name`. Says what was wrong. */
  readonly message: string;
  /**
   * What to do about it, naming the likely cause. May use the message's `{name}` parameters; a `weft`
   * command in backticks must run as printed (test/cli/cli-hints-run.test.ts parses each one).
   */
  readonly hint: string;
  /** HTTP status when the error ends an HTTP exchange (HBONE CONNECT, waypoint, admin). */
  readonly http?: number;
  /** gRPC status code (numeric, see @grpc/grpc-js `status`) when it ends a control-plane call. */
  readonly grpc?: number;
  /** CNI error code (spec codes 1-11, weft codes >= 100) when it ends a CNI command. */
  readonly cni?: number;
  /** Short stable flag for metrics labels and access logs (DENY, CONNECT, TLS, NO_ENDPOINT, ...). */
  readonly flag?: RefusalFlag;
}

export type ErrorTable = Readonly<Record<string, ErrorSpec>>;

/** Lets each area file declare its entries with literal keys kept for the `WeftErrorCode` union. */
export function defineCodes<const T extends ErrorTable>(table: T): T {
  return table;
}
