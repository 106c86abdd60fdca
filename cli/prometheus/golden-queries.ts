/**
 * The PromQL of the golden metrics (docs/metrics.md), in one place for every command that asks Prometheus
 * (`weft dashboard`; `weft stat` and `weft edges` read the same numbers). Each builder returns one
 * expression grouped by the workload it is about, so one query answers for every workload at once; a
 * `filter` narrows it to one workload or namespace. Requests are counted where they are seen in full: at
 * the waypoint (L7: status, latency) and at the destination's node agent (L4: connections, mTLS).
 */

/** Label matchers added to every selector of an expression, e.g. `{ destination_workload_namespace: 'demo' }`. */
export type LabelFilter = Readonly<Record<string, string>>;

/** The labels a destination workload is grouped by. */
export const DESTINATION = ['destination_workload_namespace', 'destination_workload'] as const;
/** The labels a source workload is grouped by. */
export const SOURCE = ['source_workload_namespace', 'source_workload'] as const;
/** The labels of an edge: both workloads and whether the connection had mutual TLS. */
export const EDGE = [...SOURCE, ...DESTINATION, 'connection_security_policy'] as const;

/** `metric{k="v",...}`: equality matchers from `fixed` and `filter`, then the `extra` matchers as written. */
function selector(metric: string, fixed: LabelFilter, filter: LabelFilter, extra: readonly string[] = []): string {
  const matchers = Object.entries({ ...fixed, ...filter }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${metric}{${[...matchers, ...extra].join(',')}}`;
}

const by = (labels: readonly string[]): string => `sum by (${labels.join(', ')})`;

const L7 = { reporter: 'waypoint' };
const L4 = { reporter: 'destination' };

/** Requests per second answered for each destination workload, at its waypoint. */
export function requestRate(window: string, filter: LabelFilter = {}): string {
  return `${by(DESTINATION)} (rate(${selector('weft_requests_total', L7, filter)}[${window}]))`;
}

/** Share (0-1) of those requests not answered with a 5xx. */
export function requestSuccess(window: string, filter: LabelFilter = {}): string {
  const ok = selector('weft_requests_total', L7, filter, ['response_code!~"5.."']);
  return `${by(DESTINATION)} (rate(${ok}[${window}])) / ${requestRate(window, filter)}`;
}

/** The `q` quantile (0.5, 0.99) of request latency in milliseconds, from the waypoint's histogram. */
export function requestLatency(q: number, window: string, filter: LabelFilter = {}): string {
  return `histogram_quantile(${q}, ${by([...DESTINATION, 'le'])} (rate(${selector('weft_request_duration_milliseconds_bucket', L7, filter)}[${window}])))`;
}

/** TCP connections per second opened to each destination workload, seen by its node agent. */
export function connectionRate(window: string, filter: LabelFilter = {}): string {
  return `${by(DESTINATION)} (rate(${selector('weft_tcp_connections_opened_total', L4, filter)}[${window}]))`;
}

/** Share (0-1) of the connections that ended normally (no refusal flag): the success rate of L4 traffic. */
export function connectionSuccess(window: string, filter: LabelFilter = {}): string {
  const closed = (extra: LabelFilter): string => `${by(DESTINATION)} (rate(${selector('weft_tcp_connections_closed_total', { ...L4, ...extra }, filter)}[${window}]))`;
  return `${closed({ response_flags: '-' })} / ${closed({})}`;
}

/** Share (0-1) of the connections to each destination workload that had mutual TLS. */
export function mtlsShare(window: string, filter: LabelFilter = {}): string {
  const opened = (extra: LabelFilter): string => `${by(DESTINATION)} (rate(${selector('weft_tcp_connections_opened_total', { ...L4, ...extra }, filter)}[${window}]))`;
  return `${opened({ connection_security_policy: 'mutual_tls' })} / ${opened({})}`;
}

/** Connections per second each workload opened as a client (a workload that only calls others shows up here). */
export function clientConnectionRate(window: string, filter: LabelFilter = {}): string {
  return `${by(SOURCE)} (rate(${selector('weft_tcp_connections_opened_total', { reporter: 'source' }, filter)}[${window}]))`;
}

/** Connections from each source workload to each destination workload over `window`, by mTLS, at the destination. */
export function connectionEdges(window: string, filter: LabelFilter = {}): string {
  return `${by(EDGE)} (increase(${selector('weft_tcp_connections_opened_total', L4, filter)}[${window}])) > 0`;
}

/** Requests from each source workload to each destination workload over `window` through waypoints. */
export function requestEdges(window: string, filter: LabelFilter = {}): string {
  return `${by(EDGE)} (increase(${selector('weft_requests_total', L7, filter)}[${window}])) > 0`;
}

/** The Services each destination workload was reached through. */
export function workloadServices(window: string, filter: LabelFilter = {}): string {
  return `${by([...DESTINATION, 'destination_service_namespace', 'destination_service_name'])} (increase(${selector('weft_tcp_connections_opened_total', L4, filter)}[${window}]))`;
}
