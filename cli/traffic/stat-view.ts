import { formatTable } from '../output.js';
import type { PrometheusClient, VectorSample } from '../prometheus/prometheus-client.js';
import type { TrafficAnswer } from './traffic-options.js';
import { millisCell, percentCell, rateCell } from './number-cells.js';
import { statQueries, statRows, type StatAnswers, type StatKind, type StatRow, type StatTarget } from './stat-queries.js';

/** What `weft stat` prints as JSON/YAML: the question (target, window, Prometheus, time) and its rows. */
export interface StatReport {
  readonly prometheus: string;
  /** The evaluation instant, RFC 3339. */
  readonly time: string;
  readonly window: string;
  readonly kind: StatKind;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly rows: readonly StatRow[];
}

/** Asks every query of the target at one instant (in parallel) and makes the report. */
export async function collectStat(client: PrometheusClient, target: StatTarget, window: string, now: number = Date.now()): Promise<StatReport> {
  const q = statQueries(target, window);
  const time = now / 1000;
  const ask = async (promql: string | undefined): Promise<readonly VectorSample[] | undefined> => (promql === undefined ? undefined : client.query(promql, time));
  const [requests, successes, p50, p95, p99, connections, mtls] = await Promise.all([q.requests, q.successes, q.p50, q.p95, q.p99, q.connections, q.mtls].map(ask));
  const answers: StatAnswers = { requests, successes, p50, p95, p99, connections, mtls };
  return {
    prometheus: client.url,
    time: new Date(now).toISOString(),
    window,
    kind: target.kind,
    namespace: target.kind === 'namespace' ? null : (target.namespace ?? null),
    name: target.name ?? null,
    rows: statRows(target, q, answers),
  };
}

const FIRST_COLUMNS: Readonly<Record<StatKind, readonly string[]>> = {
  namespace: ['NAMESPACE'],
  workload: ['NAMESPACE', 'WORKLOAD'],
  route: ['ROUTE'],
  authority: ['AUTHORITY'],
};

function firstCells(kind: StatKind, r: StatRow): string[] {
  switch (kind) {
    case 'namespace':
      return [r.name];
    case 'workload':
      return [r.namespace ?? '', r.name];
    case 'route':
      return [r.namespace === null ? r.name : `${r.namespace}/${r.name}`];
    case 'authority':
      return [r.name];
  }
}

export function statTable(report: StatReport): { headers: string[]; rows: string[][] } {
  const l4 = report.kind !== 'route';
  const headers = [...FIRST_COLUMNS[report.kind], 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'MTLS', ...(l4 ? ['TCP/S'] : [])];
  const rows = report.rows.map((r) => [
    ...firstCells(report.kind, r),
    percentCell(r.successRate),
    rateCell(r.requestsPerSecond),
    millisCell(r.latencyMs.p50),
    millisCell(r.latencyMs.p95),
    millisCell(r.latencyMs.p99),
    percentCell(r.mtlsRate),
    ...(l4 ? [rateCell(r.connectionsPerSecond)] : []),
  ]);
  return { headers, rows };
}

/** The report as data and as a table; a table with no rows says what had no traffic. */
export function statAnswer(report: StatReport): TrafficAnswer {
  if (report.rows.length === 0) {
    const what = `${report.kind}${report.name !== null ? `/${report.name}` : ''}${report.namespace !== null ? ` in namespace ${report.namespace}` : ''}`;
    return { data: report, table: [`no traffic for ${what} in the last ${report.window} (Prometheus ${report.prometheus})`] };
  }
  const { headers, rows } = statTable(report);
  return { data: report, table: formatTable(headers, rows) };
}
