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
  readonly flag?: string;
}

export type ErrorTable = Readonly<Record<string, ErrorSpec>>;

/** Lets each area file declare its entries with literal keys kept for the `WeftErrorCode` union. */
export function defineCodes<const T extends ErrorTable>(table: T): T {
  return table;
}
