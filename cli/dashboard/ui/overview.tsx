import type { Overview, Topology, WorkloadSummary } from '../dashboard-api.js';
import { usePolling } from './api.js';
import { clock, millisCell, percentCell, rateCell, workloadHref } from './format.js';
import { Sparkline } from './sparkline.js';
import { TopologyGraph } from './topology.js';

/** The first page: every namespace's workloads with their golden metrics, and the topology graph. */
export function OverviewPage() {
  const overview = usePolling<Overview>('/api/overview');
  const topology = usePolling<Topology>('/api/topology');
  return (
    <main>
      <h1>weft mesh</h1>
      {overview.error && <p class="error" role="alert">{overview.error}</p>}
      {overview.data && <p class="updated" data-testid="updated">updated {clock(overview.data.at)}, rates over {overview.data.window}</p>}
      {overview.data?.namespaces.length === 0 && <p class="empty">no mesh traffic yet: Prometheus has no weft traffic metrics</p>}
      {overview.data?.namespaces.map((ns) => (
        <section class="namespace" data-testid={`namespace-${ns.name}`}>
          <h2>namespace {ns.name}</h2>
          <WorkloadTable workloads={ns.workloads} />
        </section>
      ))}
      <section>
        <h2>topology</h2>
        {topology.error && <p class="error" role="alert">{topology.error}</p>}
        {topology.data && <TopologyGraph topology={topology.data} />}
      </section>
    </main>
  );
}

function WorkloadTable(props: { workloads: readonly WorkloadSummary[] }) {
  return (
    <table class="workloads">
      <thead>
        <tr>
          <th>workload</th>
          <th>success</th>
          <th>req/s</th>
          <th>p50</th>
          <th>p95</th>
          <th>p99</th>
          <th>conn/s</th>
          <th>mTLS</th>
          <th>last 10 min</th>
        </tr>
      </thead>
      <tbody>
        {props.workloads.map((w) => (
          <tr data-testid={`workload-${w.namespace}-${w.name}`}>
            <td>
              <a href={workloadHref(w.namespace, w.name)}>{w.name}</a>
            </td>
            <td>{percentCell(w.successRate)}</td>
            <td data-testid="rps">{rateCell(w.requestsPerSecond)}</td>
            <td>{millisCell(w.latencyMs.p50)}</td>
            <td>{millisCell(w.latencyMs.p95)}</td>
            <td>{millisCell(w.latencyMs.p99)}</td>
            <td>{rateCell(w.connectionsPerSecond)}</td>
            <td>{percentCell(w.mtlsRate)}</td>
            <td>
              <Sparkline spark={w.spark} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
