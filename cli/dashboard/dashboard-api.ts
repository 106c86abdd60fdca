import type { Edge } from '../traffic/edge-queries.js';
import type { StatRow } from '../traffic/stat-queries.js';

/**
 * The JSON the dashboard's server answers and its page reads (the page imports these types only, never the
 * server's code). The numbers are `weft stat`'s rows and `weft edges`' edges (cli/traffic/): null where
 * Prometheus has no sample (a workload without a waypoint has no request rate or latency).
 */
export type { Edge, EdgeEnd } from '../traffic/edge-queries.js';
export type { StatRow } from '../traffic/stat-queries.js';

export interface WorkloadKey {
  readonly namespace: string;
  readonly name: string;
}

/** A time series for a sparkline: seconds since the epoch and values (null: no sample then). */
export interface Spark {
  readonly t: readonly number[];
  readonly v: readonly (number | null)[];
}

export type WorkloadSummary = StatRow & {
  readonly namespace: string;
  /** Requests per second (connections per second where no waypoint counts requests) over the last minutes. */
  readonly spark: Spark;
};

/** When the numbers were read (ms since the epoch), and the window of their rates or counts. */
export interface Reading {
  readonly at: number;
  readonly window: string;
}

export interface Overview extends Reading {
  readonly namespaces: readonly { readonly name: string; readonly workloads: readonly WorkloadSummary[] }[];
}

export interface Topology extends Reading {
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

export interface WorkloadMetrics {
  readonly workload: WorkloadSummary;
  /** `rate`: requests per second, or connections per second without a waypoint. */
  readonly series: { readonly rate: Spark; readonly successRate: Spark; readonly p99: Spark };
  /** The Services it was reached through, `namespace/name`. */
  readonly services: readonly string[];
  readonly inbound: readonly Edge[];
  readonly outbound: readonly Edge[];
}

export interface WorkloadDetail extends WorkloadMetrics, Reading {
  /** The window of `inbound` and `outbound`. */
  readonly edgeWindow: string;
  readonly routes: readonly RouteSummary[];
  readonly policies: readonly PolicySummary[];
  /** Components that could not be asked, with why: the page says so instead of showing less silently. */
  readonly unreachable: readonly string[];
}

/** One line of a workload's live tap (`weft tap`'s line), or a note about the tap itself (a component not tapped, dropped events). */
export interface TapLine {
  readonly kind: 'event' | 'note';
  readonly text: string;
}
