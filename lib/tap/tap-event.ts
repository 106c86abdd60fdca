import type { AuthzDecision } from '../authz/index.js';

/**
 * What `weft tap` streams (admin `/debug/tap`, one JSON object per line): connections as the node agents
 * see them (open and close, or a refusal: a close without an open) and requests as the waypoints see them.
 * Built only while someone listens (tap-hub.ts), from what the component records for its access log.
 */

/** One end of a connection or request: the owning workload (never a pod), its namespace and SPIFFE ID. */
export interface TapPeer {
  readonly workload: string;
  readonly namespace: string;
  readonly identity: string;
  readonly ip?: string;
}

/**
 * The enforced policy verdict: `allow` with the ALLOW policy and rule that matched (no policy: none
 * applied), `deny` with the policy and rule that refused. For operators only: the client never sees it.
 */
export interface TapVerdict {
  readonly action: 'allow' | 'deny';
  readonly policy?: string;
  readonly rule?: number;
}

/** What the dry-run policies (`weft.dev/dry-run: "true"`) would have decided; absent where none apply. */
export interface TapDryRun {
  readonly verdict: 'would_allow' | 'would_deny';
  readonly policy?: string;
  readonly rule?: number;
}

export interface ConnectionTapEvent {
  readonly type: 'connection';
  /** `open` once the connection is set up; `close` when it ends, or when it was refused (no open before). */
  readonly event: 'open' | 'close';
  readonly time: string;
  /** The component's own connection id (the open and the close of one connection share it; 0: refused). */
  readonly id: number;
  readonly reporter: 'source' | 'destination';
  readonly direction: string;
  /** `hbone`, `waypoint`, `passthrough`, `plaintext`. */
  readonly via: string;
  readonly source: TapPeer;
  readonly destination: TapPeer & { readonly address: string; readonly port: number; readonly service: string };
  /** `ok`, or the refusal flag (DENY, CONNECT, ...); on a close only. */
  readonly outcome?: string;
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
  readonly durationMs?: number;
  readonly verdict?: TapVerdict;
  readonly dryRun?: TapDryRun;
}

export interface RequestTapEvent {
  readonly type: 'request';
  readonly time: string;
  readonly method: string;
  readonly authority: string;
  /** Without the query. */
  readonly path: string;
  readonly status: number;
  readonly grpcStatus?: string;
  /** `-` when the upstream answered, else the flag of the local answer (DENY, NO_ROUTE, ...). */
  readonly outcome: string;
  /** `<ns>/<name>` of the HTTPRoute, `passthrough`, or `none`. */
  readonly route: string;
  /** `<ns>/<service>:<port>` of the backend chosen, or `none`. */
  readonly backend: string;
  /** `address:port` of the endpoint the last try went to. */
  readonly endpoint?: string;
  readonly latencyMs: number;
  readonly source: TapPeer;
  readonly destination: TapPeer & { readonly service: string };
  readonly verdict: TapVerdict;
  readonly dryRun?: TapDryRun;
}

export type TapEvent = ConnectionTapEvent | RequestTapEvent;

/** The verdict of an enforced decision (undefined: no policy applied, so allowed). */
export function tapVerdict(d: AuthzDecision | undefined): TapVerdict {
  if (d === undefined) return { action: 'allow' };
  return { action: d.allowed ? 'allow' : 'deny', policy: d.policy, rule: d.rule };
}

export function tapDryRun(d: AuthzDecision | undefined): TapDryRun | undefined {
  return d === undefined ? undefined : { verdict: d.allowed ? 'would_allow' : 'would_deny', policy: d.policy, rule: d.rule };
}
