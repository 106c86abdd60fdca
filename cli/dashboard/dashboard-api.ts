/**
 * The JSON the dashboard's server answers and its page reads (the page imports these types only, never the
 * server's code). Numbers are null where Prometheus has no sample: a workload with only L4 traffic has no
 * request rate or latency, one that has not been called has no success rate.
 */
export interface WorkloadKey {
  readonly namespace: string;
  readonly name: string;
}

export interface GoldenMetrics {
  /** Requests per second at its waypoint (L7). */
  readonly rps: number | null;
  /** TCP connections per second to it, at its node agent (L4). */
  readonly cps: number | null;
  /** 0-1: requests not answered 5xx, else connections that ended without a refusal. */
  readonly successRate: number | null;
  /** Request latency in ms. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** 0-1: connections to it with mutual TLS. */
  readonly mtls: number | null;
  /** Connections per second it opened as a client. */
  readonly outCps: number | null;
}

/** A time series for a sparkline: seconds since the epoch and values (null: no sample then). */
export interface Spark {
  readonly t: readonly number[];
  readonly v: readonly (number | null)[];
}

export interface WorkloadSummary extends WorkloadKey, GoldenMetrics {
  /** Requests per second (connections per second where it has no L7 traffic) over the last minutes. */
  readonly spark: Spark;
}

export interface Overview {
  /** When the numbers were read, ms since the epoch. */
  readonly at: number;
  readonly window: string;
  readonly namespaces: readonly { readonly name: string; readonly workloads: readonly WorkloadSummary[] }[];
}

export interface Edge {
  readonly source: WorkloadKey;
  readonly destination: WorkloadKey;
  /** L4: connections seen by the destination's node agent; L7: requests through a waypoint. */
  readonly layer: 'L4' | 'L7';
  readonly mtls: boolean;
  /** Connections or requests over the window. */
  readonly count: number;
}

export interface Topology {
  readonly at: number;
  readonly window: string;
  readonly edges: readonly Edge[];
}

export interface RouteSummary {
  /** The waypoint that holds it, `namespace/name`. */
  readonly waypoint: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly parents: readonly string[];
  readonly rules: readonly { readonly matches: string; readonly backends: string }[];
}

export interface PolicySummary {
  readonly namespace: string;
  readonly name: string;
  readonly scope: string;
  readonly action: string;
  readonly rules: number;
  readonly dryRun: boolean;
  /** The components that hold it: `node agent n1`, `waypoint demo/waypoint`. */
  readonly heldBy: readonly string[];
}

export interface WorkloadDetail {
  readonly at: number;
  readonly window: string;
  readonly workload: WorkloadSummary;
  readonly series: { readonly rps: Spark; readonly successRate: Spark; readonly p99: Spark };
  /** The Services it was reached through, `namespace/name`. */
  readonly services: readonly string[];
  readonly inbound: readonly Edge[];
  readonly outbound: readonly Edge[];
  readonly routes: readonly RouteSummary[];
  readonly policies: readonly PolicySummary[];
  /** Components that could not be asked, with why: the page says so instead of showing less silently. */
  readonly unreachable: readonly string[];
}
