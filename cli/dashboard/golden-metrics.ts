import * as q from '../prometheus/golden-queries.js';
import type { Edge, GoldenMetrics, Overview, Spark, Topology, WorkloadKey, WorkloadSummary } from './dashboard-api.js';

/**
 * The dashboard's numbers, read from Prometheus with the golden-metric queries: one instant query per
 * metric for every workload at once, one range query for the sparklines. What a workload is: a
 * (namespace, workload) pair some metric names, as a destination or as a client; `unknown` (a peer weft
 * could not name) is not one.
 */
export interface InstantSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** [seconds since the epoch, value]. */
  readonly points: readonly (readonly [number, number])[];
}

/** What the dashboard asks of Prometheus (PrometheusClient answers it). */
export interface PrometheusReader {
  query(promql: string, time: number): Promise<InstantSample[]>;
  queryRange(promql: string, start: number, end: number, stepS: number): Promise<RangeSeries[]>;
}

export interface MetricsOptions {
  /** The rate window, a Prometheus duration (`1m`). */
  readonly window: string;
  /** How far back the sparklines reach, in seconds, and their step. */
  readonly historyS: number;
  readonly stepS: number;
}

export const DEFAULT_METRICS: MetricsOptions = { window: '1m', historyS: 600, stepS: 10 };

const key = (ns: string, name: string): string => `${ns}/${name}`;
const destKey = (m: Readonly<Record<string, string>>): string => key(m.destination_workload_namespace ?? '', m.destination_workload ?? '');
const srcKey = (m: Readonly<Record<string, string>>): string => key(m.source_workload_namespace ?? '', m.source_workload ?? '');
const known = (m: Readonly<Record<string, string>>, side: 'source' | 'destination'): boolean => {
  const ns = m[`${side}_workload_namespace`];
  const name = m[`${side}_workload`];
  return !!ns && !!name && ns !== 'unknown' && name !== 'unknown';
};
/** NaN (0/0: no traffic in the window) and infinities read as "no number". */
const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

type Column = keyof GoldenMetrics;

/** The instant queries of the golden metrics, by the column they fill and the side their labels name. */
function columns(o: MetricsOptions, filter: q.LabelFilter, clientFilter: q.LabelFilter): [Column, string, 'source' | 'destination'][] {
  return [
    ['rps', q.requestRate(o.window, filter), 'destination'],
    ['cps', q.connectionRate(o.window, filter), 'destination'],
    ['successRate', q.requestSuccess(o.window, filter), 'destination'],
    ['p50', q.requestLatency(0.5, o.window, filter), 'destination'],
    ['p99', q.requestLatency(0.99, o.window, filter), 'destination'],
    ['mtls', q.mtlsShare(o.window, filter), 'destination'],
    ['outCps', q.clientConnectionRate(o.window, clientFilter), 'source'],
  ];
}

/** The golden metrics of every workload (or those `filter` keeps), by `namespace/name`. */
async function goldenByWorkload(p: PrometheusReader, o: MetricsOptions, now: number, filter: q.LabelFilter, clientFilter: q.LabelFilter): Promise<Map<string, Record<Column, number | null>>> {
  const cols = columns(o, filter, clientFilter);
  const l4Success = p.query(q.connectionSuccess(o.window, filter), now);
  const answers = await Promise.all(cols.map(([, promql]) => p.query(promql, now)));
  const rows = new Map<string, Record<Column, number | null>>();
  const row = (k: string): Record<Column, number | null> => {
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { rps: null, cps: null, successRate: null, p50: null, p99: null, mtls: null, outCps: null }));
    return r;
  };
  cols.forEach(([col, , side], i) => {
    for (const s of answers[i]) if (known(s.metric, side)) row(side === 'source' ? srcKey(s.metric) : destKey(s.metric))[col] = finite(s.value);
  });
  // A workload without a waypoint has no request status: its success rate is that of its connections.
  for (const s of await l4Success) {
    if (!known(s.metric, 'destination')) continue;
    const r = row(destKey(s.metric));
    if (r.successRate === null) r.successRate = finite(s.value);
  }
  return rows;
}

function spark(points: readonly (readonly [number, number])[] | undefined, start: number, o: MetricsOptions): Spark {
  const t: number[] = [];
  const v: (number | null)[] = [];
  const at = new Map((points ?? []).map(([ts, val]) => [Math.round(ts), val]));
  for (let ts = start; ts <= start + o.historyS; ts += o.stepS) {
    t.push(ts);
    v.push(finite(at.get(ts)));
  }
  return { t, v };
}

/** Range series keyed by the workload their labels name. */
async function rangeBy(p: PrometheusReader, promql: string, start: number, end: number, o: MetricsOptions): Promise<Map<string, RangeSeries['points']>> {
  const out = new Map<string, RangeSeries['points']>();
  for (const s of await p.queryRange(promql, start, end, o.stepS)) if (known(s.metric, 'destination')) out.set(destKey(s.metric), s.points);
  return out;
}

/** Aligned to the step, so that successive answers line up point for point. */
function rangeWindow(nowS: number, o: MetricsOptions): { start: number; end: number } {
  const end = Math.floor(nowS / o.stepS) * o.stepS;
  return { start: end - o.historyS, end };
}

function summaries(rows: Map<string, Record<Column, number | null>>, rps: Map<string, RangeSeries['points']>, cps: Map<string, RangeSeries['points']>, start: number, o: MetricsOptions): WorkloadSummary[] {
  return [...rows.entries()]
    .map(([k, m]) => {
      const [namespace, name] = k.split('/', 2) as [string, string];
      return { namespace, name, ...m, spark: spark(rps.get(k) ?? cps.get(k), start, o) };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export async function readOverview(p: PrometheusReader, o: MetricsOptions = DEFAULT_METRICS, nowMs: number = Date.now()): Promise<Overview> {
  const now = nowMs / 1000;
  const { start, end } = rangeWindow(now, o);
  const [rows, rps, cps] = await Promise.all([
    goldenByWorkload(p, o, now, {}, {}),
    rangeBy(p, q.requestRate(o.window), start, end, o),
    rangeBy(p, q.connectionRate(o.window), start, end, o),
  ]);
  const byNs = new Map<string, WorkloadSummary[]>();
  for (const w of summaries(rows, rps, cps, start, o)) byNs.set(w.namespace, [...(byNs.get(w.namespace) ?? []), w]);
  return { at: nowMs, window: o.window, namespaces: [...byNs.entries()].map(([name, workloads]) => ({ name, workloads })) };
}

function edgesOf(samples: readonly InstantSample[], layer: Edge['layer']): Edge[] {
  return samples
    .filter((s) => known(s.metric, 'source') && known(s.metric, 'destination'))
    .map((s) => ({
      source: { namespace: s.metric.source_workload_namespace, name: s.metric.source_workload },
      destination: { namespace: s.metric.destination_workload_namespace, name: s.metric.destination_workload },
      layer,
      mtls: s.metric.connection_security_policy === 'mutual_tls',
      count: Math.round(s.value),
    }));
}

/** Who talked to whom over the last `window` (5m by default: an edge stays drawn a while after its last call). */
export async function readTopology(p: PrometheusReader, window = '5m', nowMs: number = Date.now(), filter: q.LabelFilter = {}): Promise<Topology> {
  const now = nowMs / 1000;
  const [l4, l7] = await Promise.all([p.query(q.connectionEdges(window, filter), now), p.query(q.requestEdges(window, filter), now)]);
  return { at: nowMs, window, edges: [...edgesOf(l4, 'L4'), ...edgesOf(l7, 'L7')] };
}

export interface WorkloadMetrics {
  readonly workload: WorkloadSummary;
  readonly series: { readonly rps: Spark; readonly successRate: Spark; readonly p99: Spark };
  readonly services: string[];
  readonly inbound: Edge[];
  readonly outbound: Edge[];
}

/** One workload's numbers, its history, the Services it was reached through and its edges. */
export async function readWorkload(p: PrometheusReader, w: WorkloadKey, o: MetricsOptions = DEFAULT_METRICS, nowMs: number = Date.now()): Promise<WorkloadMetrics> {
  const now = nowMs / 1000;
  const { start, end } = rangeWindow(now, o);
  const asDest = { destination_workload_namespace: w.namespace, destination_workload: w.name };
  const asSrc = { source_workload_namespace: w.namespace, source_workload: w.name };
  const [rows, rps, cps, success, l4Success, p99, services, inbound, outbound] = await Promise.all([
    goldenByWorkload(p, o, now, asDest, asSrc),
    rangeBy(p, q.requestRate(o.window, asDest), start, end, o),
    rangeBy(p, q.connectionRate(o.window, asDest), start, end, o),
    rangeBy(p, q.requestSuccess(o.window, asDest), start, end, o),
    rangeBy(p, q.connectionSuccess(o.window, asDest), start, end, o),
    rangeBy(p, q.requestLatency(0.99, o.window, asDest), start, end, o),
    p.query(q.workloadServices('1h', asDest), now),
    readTopology(p, '5m', nowMs, asDest),
    readTopology(p, '5m', nowMs, asSrc),
  ]);
  const k = key(w.namespace, w.name);
  const m = rows.get(k) ?? { rps: null, cps: null, successRate: null, p50: null, p99: null, mtls: null, outCps: null };
  const rpsPoints = rps.get(k) ?? cps.get(k);
  return {
    workload: { ...w, ...m, spark: spark(rpsPoints, start, o) },
    series: { rps: spark(rpsPoints, start, o), successRate: spark(success.get(k) ?? l4Success.get(k), start, o), p99: spark(p99.get(k), start, o) },
    services: [...new Set(services.filter((s) => s.metric.destination_service_name && s.metric.destination_service_name !== 'unknown').map((s) => key(s.metric.destination_service_namespace, s.metric.destination_service_name)))].sort(),
    inbound: inbound.edges as Edge[],
    outbound: outbound.edges as Edge[],
  };
}
