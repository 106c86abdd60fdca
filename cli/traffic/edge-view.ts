import { formatTable } from '../output.js';
import type { PrometheusClient } from '../prometheus/prometheus-client.js';
import { edgeQueries, edgesOf, type Edge, type EdgeAnswers, type EdgeEnd, type PolicyVerdicts } from './edge-queries.js';
import { countCell, percentCell } from './number-cells.js';
import type { TrafficAnswer } from './traffic-options.js';

/** What `weft edges` prints as JSON/YAML. */
export interface EdgesReport {
  readonly prometheus: string;
  readonly time: string;
  readonly window: string;
  /** null: all namespaces. */
  readonly namespace: string | null;
  readonly edges: readonly Edge[];
  readonly policies: readonly PolicyVerdicts[];
}

export async function collectEdges(client: PrometheusClient, namespace: string | undefined, window: string, now: number = Date.now()): Promise<EdgesReport> {
  const q = edgeQueries(window);
  const time = now / 1000;
  const names = Object.keys(q) as (keyof typeof q)[];
  const results = await Promise.all(names.map((k) => client.query(q[k], time)));
  const answers = Object.fromEntries(names.map((k, i) => [k, results[i]])) as unknown as EdgeAnswers;
  return { prometheus: client.url, time: new Date(now).toISOString(), window, namespace: namespace ?? null, ...edgesOf(answers, namespace) };
}

/** `demo/web`; a Service asked for when no workload answered: `demo/svc/web`. */
function endCell(e: EdgeEnd): string {
  return e.service !== undefined ? `${e.namespace}/svc/${e.service}` : `${e.namespace}/${e.workload}`;
}

function mtlsCell(share: number): string {
  if (share >= 1) return 'yes';
  if (share <= 0) return 'no';
  return percentCell(share);
}

export function edgesAnswer(report: EdgesReport): TrafficAnswer {
  if (report.edges.length === 0 && report.policies.length === 0) {
    const where = report.namespace === null ? 'any namespace' : `namespace ${report.namespace}`;
    return { data: report, table: [`no traffic in ${where} in the last ${report.window} (Prometheus ${report.prometheus})`] };
  }
  const table = formatTable(
    ['SOURCE', 'DESTINATION', 'SOURCE IDENTITY', 'DESTINATION IDENTITY', 'MTLS', 'CONNECTIONS', 'REQUESTS', 'DENIED'],
    report.edges.map((e) => [
      endCell(e.source),
      endCell(e.destination),
      e.source.principal,
      e.destination.principal,
      mtlsCell(e.mtlsRate),
      countCell(e.connections),
      countCell(e.requests),
      countCell(e.denied.connections + e.denied.requests),
    ]),
  );
  if (report.policies.length > 0) {
    table.push('', ...formatTable(['POLICY', 'RULE', 'DENIED', 'WOULD DENY (DRY-RUN)', 'WOULD ALLOW (DRY-RUN)'], report.policies.map((p) => [p.policy, p.rule, countCell(p.denied), countCell(p.wouldDeny), countCell(p.wouldAllow)])));
  }
  return { data: report, table };
}
