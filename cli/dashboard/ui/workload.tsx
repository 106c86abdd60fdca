import type { Edge, WorkloadDetail, WorkloadKey } from '../dashboard-api.js';
import { usePolling } from './api.js';
import { clock, countCell, endName, millisCell, percentCell, rateCell, workloadHref } from './format.js';
import { Sparkline } from './sparkline.js';
import { TapPanel } from './tap-panel.js';

/** One workload: its numbers and their history, who calls it and whom it calls, its routes and policies, its live tap. */
export function WorkloadPage(props: { workload: WorkloadKey }) {
  const { namespace, name } = props.workload;
  const { data, error } = usePolling<WorkloadDetail>(`/api/workload?namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`);
  const w = data?.workload;
  return (
    <main>
      <p>
        <a href="#/">← all workloads</a>
      </p>
      <h1 data-testid="workload-title">
        {namespace}/{name}
      </h1>
      {error && <p class="error" role="alert">{error}</p>}
      {data && <p class="updated" data-testid="updated">updated {clock(data.at)}, rates over {data.window}</p>}
      {w && data && (
        <>
          <div class="cards">
            <Card label="success" value={percentCell(w.successRate)} id="success" />
            <Card label="requests/s" value={rateCell(w.requestsPerSecond)} id="rps" />
            <Card label="p50" value={millisCell(w.latencyMs.p50)} id="p50" />
            <Card label="p95" value={millisCell(w.latencyMs.p95)} id="p95" />
            <Card label="p99" value={millisCell(w.latencyMs.p99)} id="p99" />
            <Card label="connections/s" value={rateCell(w.connectionsPerSecond)} id="cps" />
            <Card label="mTLS" value={percentCell(w.mtlsRate)} id="mtls" />
          </div>
          <div class="charts">
            <Chart title={w.requestsPerSecond !== null ? 'requests/s' : 'connections/s'} spark={data.series.rate} />
            <Chart title="success rate" spark={data.series.successRate} />
            <Chart title="p99 (ms)" spark={data.series.p99} />
          </div>
          <h2>services</h2>
          <p>{data.services.length > 0 ? data.services.join(', ') : 'none seen in the last hour'}</p>
          <h2>inbound (last {data.edgeWindow})</h2>
          <Edges edges={data.inbound} side="source" />
          <h2>outbound (last {data.edgeWindow})</h2>
          <Edges edges={data.outbound} side="destination" />
          <h2>routes</h2>
          {data.routes.length === 0 ? (
            <p class="empty">no HTTPRoute or GRPCRoute at a waypoint of {namespace} attaches to or sends to its Services</p>
          ) : (
            <table data-testid="routes">
              <thead>
                <tr><th>route</th><th>waypoint</th><th>parents</th><th>rules: match → backends</th></tr>
              </thead>
              <tbody>
                {data.routes.map((r) => (
                  <tr>
                    <td>{`${r.kind} ${r.namespace}/${r.name}`}</td>
                    <td>{r.waypoint}</td>
                    <td>{r.parents.join(', ')}</td>
                    <td>{r.rules.map((x) => <div>{`${x.matches} → ${x.backends}`}</div>)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>policies</h2>
          {data.policies.length === 0 ? (
            <p class="empty">no AuthorizationPolicy of namespace {namespace} is held by a node agent or waypoint</p>
          ) : (
            <table data-testid="policies">
              <thead>
                <tr><th>policy</th><th>scope</th><th>action</th><th>rules</th><th>dry-run</th><th>held by</th></tr>
              </thead>
              <tbody>
                {data.policies.map((p) => (
                  <tr>
                    <td>{`${p.namespace}/${p.name}`}</td>
                    <td>{p.scope}</td>
                    <td>{p.action}</td>
                    <td>{p.rules}</td>
                    <td>{p.dryRun ? 'yes' : 'no'}</td>
                    <td>{p.heldBy.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>live tap</h2>
          <TapPanel workload={props.workload} />
          {data.unreachable.length > 0 && (
            <div class="error">
              <h2>not asked</h2>
              <ul>{data.unreachable.map((u) => <li>{u}</li>)}</ul>
            </div>
          )}
        </>
      )}
    </main>
  );
}

function Card(props: { label: string; value: string; id: string }) {
  return (
    <div class="card">
      <div class="card-value" data-testid={`metric-${props.id}`}>{props.value}</div>
      <div class="card-label">{props.label}</div>
    </div>
  );
}

function Chart(props: { title: string; spark: WorkloadDetail['series']['rate'] }) {
  return (
    <figure>
      <figcaption>{props.title}</figcaption>
      <Sparkline spark={props.spark} width={320} height={140} axes label={props.title} />
    </figure>
  );
}

function Edges(props: { edges: readonly Edge[]; side: 'source' | 'destination' }) {
  if (props.edges.length === 0) return <p class="empty">none</p>;
  return (
    <table>
      <thead>
        <tr><th>{props.side}</th><th>identity</th><th>requests</th><th>connections</th><th>denied</th><th>mTLS</th></tr>
      </thead>
      <tbody>
        {props.edges.map((e) => {
          const peer = e[props.side];
          return (
            <tr>
              <td>{peer.service === undefined ? <a href={workloadHref(peer.namespace, peer.workload)}>{endName(peer)}</a> : endName(peer)}</td>
              <td>{peer.principal}</td>
              <td>{countCell(e.requests)}</td>
              <td>{countCell(e.connections)}</td>
              <td>{countCell(e.denied.requests + e.denied.connections)}</td>
              <td>{percentCell(e.mtlsRate)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
