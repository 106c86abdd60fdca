import type { PrometheusClient, RangeSeries } from '../prometheus/prometheus-client.js';
import { eq, sumIncrease } from '../prometheus/promql.js';
import { collectEdges } from '../traffic/edge-view.js';
import { statQueries, type StatRow, type StatTarget } from '../traffic/stat-queries.js';
import { collectStat } from '../traffic/stat-view.js';
import type { Overview, Spark, Topology, WorkloadKey, WorkloadMetrics, WorkloadSummary } from './dashboard-api.js';

/**
 * The dashboard's numbers: the rows `weft stat deployment` makes and the edges `weft edges` makes (the
 * same queries, cli/traffic/), plus the history of the same expressions for the sparklines (range
 * queries). A workload is a (namespace, workload) pair the metrics name; `unknown` is not one.
 */
export interface MetricsOptions {
  /** The rate window, a Prometheus duration (`1m`). */
  readonly window: string;
  /** The edges' window: an edge stays drawn a while after its last call. */
  readonly edgeWindow: string;
  /** How far back the sparklines reach, in seconds, and their step. */
  readonly historyS: number;
  readonly stepS: number;
}

export const DEFAULT_METRICS: MetricsOptions = { window: '1m', edgeWindow: '5m', historyS: 600, stepS: 10 };

const key = (ns: string | null, name: string): string => `${ns ?? ''}/${name}`;
const isWorkload = (r: StatRow): r is StatRow & { namespace: string } => r.namespace !== null && r.namespace !== 'unknown' && r.name !== 'unknown';
/** NaN (0/0: no traffic in the window) and infinities read as "no number". */
const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** Aligned to the step, so that successive answers line up point for point. */
function rangeWindow(nowMs: number, o: MetricsOptions): { start: number; end: number } {
  const end = Math.floor(nowMs / 1000 / o.stepS) * o.stepS;
  return { start: end - o.historyS, end };
}

/** A sparkline's points from `start`, every step: null where the series has no sample. */
function spark(points: RangeSeries['points'] | undefined, start: number, o: MetricsOptions, map: (ts: number, v: number) => number | null = (_t, v) => v): Spark {
  const at = new Map((points ?? []).map(([ts, v]) => [Math.round(ts), v]));
  const t: number[] = [];
  const v: (number | null)[] = [];
  for (let ts = start; ts <= start + o.historyS; ts += o.stepS) {
    t.push(ts);
    const x = at.get(ts);
    v.push(x === undefined ? null : finite(map(ts, x) ?? undefined));
  }
  return { t, v };
}

/** Range series by the destination workload their labels name. */
async function rangeByWorkload(p: PrometheusClient, promql: string | undefined, start: number, end: number, o: MetricsOptions): Promise<Map<string, RangeSeries['points']>> {
  const out = new Map<string, RangeSeries['points']>();
  if (promql === undefined) return out;
  for (const s of await p.queryRange(promql, start, end, o.stepS)) out.set(key(s.metric.destination_workload_namespace ?? null, s.metric.destination_workload ?? 'unknown'), s.points);
  return out;
}

export async function readOverview(p: PrometheusClient, o: MetricsOptions = DEFAULT_METRICS, nowMs: number = Date.now()): Promise<Overview> {
  const target: StatTarget = { kind: 'workload' };
  const q = statQueries(target, o.window);
  const { start, end } = rangeWindow(nowMs, o);
  const [report, requests, connections] = await Promise.all([
    collectStat(p, target, o.window, nowMs),
    rangeByWorkload(p, q.requests, start, end, o),
    rangeByWorkload(p, q.connections, start, end, o),
  ]);
  const byNs = new Map<string, WorkloadSummary[]>();
  for (const r of report.rows.filter(isWorkload)) {
    const k = key(r.namespace, r.name);
    // Requests per second where a waypoint counts them, else connections per second.
    const w: WorkloadSummary = { ...r, spark: spark(requests.get(k) ?? connections.get(k), start, o) };
    byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), w]);
  }
  return { at: nowMs, window: o.window, namespaces: [...byNs.entries()].map(([name, workloads]) => ({ name, workloads })) };
}

export async function readTopology(p: PrometheusClient, o: MetricsOptions = DEFAULT_METRICS, nowMs: number = Date.now()): Promise<Topology> {
  const report = await collectEdges(p, undefined, o.edgeWindow, nowMs);
  return { at: nowMs, window: o.edgeWindow, edges: report.edges };
}

/** One workload's numbers and their history, its edges and the Services it was reached through. */
export async function readWorkload(p: PrometheusClient, w: WorkloadKey, o: MetricsOptions = DEFAULT_METRICS, nowMs: number = Date.now()): Promise<WorkloadMetrics> {
  const target: StatTarget = { kind: 'workload', namespace: w.namespace, name: w.name };
  const q = statQueries(target, o.window);
  const { start, end } = rangeWindow(nowMs, o);
  const servicesQuery = sumIncrease(
    'weft_tcp_connections_opened_total',
    [eq('reporter', 'destination'), eq('destination_workload_namespace', w.namespace), eq('destination_workload', w.name)],
    ['destination_service_namespace', 'destination_service_name'],
    '1h',
  );
  const k = key(w.namespace, w.name);
  const series = async (promql: string | undefined): Promise<RangeSeries['points'] | undefined> => (await rangeByWorkload(p, promql, start, end, o)).get(k);
  const [report, requests, successes, connections, p99, edges, services] = await Promise.all([
    collectStat(p, target, o.window, nowMs),
    series(q.requests),
    series(q.successes),
    series(q.connections),
    series(q.p99),
    collectEdges(p, w.namespace, o.edgeWindow, nowMs),
    p.query(servicesQuery, nowMs / 1000),
  ]);
  const row = report.rows.find((r) => r.namespace === w.namespace && r.name === w.name);
  const none = { requestsPerSecond: null, successRate: null, latencyMs: { p50: null, p95: null, p99: null }, connectionsPerSecond: null, mtlsRate: null };
  const ok = new Map((successes ?? []).map(([ts, v]) => [Math.round(ts), v]));
  const rate = spark(requests ?? connections, start, o);
  const is = (e: { namespace: string; workload: string; service?: string }): boolean => e.namespace === w.namespace && e.workload === w.name && e.service === undefined;
  return {
    workload: { ...(row ?? none), namespace: w.namespace, name: w.name, spark: rate },
    series: {
      rate,
      // Successes over requests, point by point (no requests: no rate).
      successRate: spark(requests, start, o, (ts, n) => (n > 0 ? (ok.get(ts) ?? 0) / n : null)),
      p99: spark(p99, start, o),
    },
    services: [...new Set(services.filter((s) => s.metric.destination_service_name && s.metric.destination_service_name !== 'unknown').map((s) => `${s.metric.destination_service_namespace}/${s.metric.destination_service_name}`))].sort(),
    inbound: edges.edges.filter((e) => is(e.destination)),
    outbound: edges.edges.filter((e) => is(e.source)),
  };
}
