import { WeftError } from '../../lib/errors/index.js';
import type { VectorSample } from '../prometheus/prometheus-client.js';
import { eq, literalRegex, quantile, re, sumRate, type Matcher } from '../prometheus/promql.js';

/**
 * What `weft stat` asks Prometheus, and the rows it makes of the answers. The golden metrics of
 * docs/metrics.md, with Istio's label semantics:
 * - requests, success rate and latency from the waypoints (`weft_requests_total`,
 *   `weft_request_duration_milliseconds`, reporter="waypoint"): L7 is seen only where a waypoint is;
 * - connections and the share of them with mutual TLS from the destination's node agent
 *   (`weft_tcp_connections_opened_total`, reporter="destination"): every connection into a workload, a
 *   waypoint's included. A route is L7 alone: its share is that of its requests.
 * A success is a response that is not 5xx and, for gRPC, has status OK (Linkerd's and Kiali's reading).
 */
export type StatKind = 'namespace' | 'workload' | 'route' | 'authority';

export interface StatTarget {
  readonly kind: StatKind;
  /** One resource of the kind; undefined: every one (in `namespace`). */
  readonly name?: string;
  /** undefined: all namespaces. Ignored for the kind `namespace`. */
  readonly namespace?: string;
}

/** The words `weft stat` takes for each kind (the metrics name a workload by its owner, whatever its kind). */
const KIND_WORDS: Readonly<Record<string, StatKind>> = {
  namespace: 'namespace',
  namespaces: 'namespace',
  ns: 'namespace',
  deployment: 'workload',
  deployments: 'workload',
  deploy: 'workload',
  statefulset: 'workload',
  sts: 'workload',
  daemonset: 'workload',
  ds: 'workload',
  workload: 'workload',
  workloads: 'workload',
  route: 'route',
  routes: 'route',
  authority: 'authority',
  au: 'authority',
};

export const STAT_RESOURCE_HELP = 'namespace | deployment | route | authority, alone (each in -n) or with /NAME (deployment/web, route/web, authority/web.demo)';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOST = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `deployment/web` (in `namespace`; undefined: all namespaces) as what to ask for. */
export function parseStatTarget(resource: string, namespace: string | undefined): StatTarget {
  const slash = resource.indexOf('/');
  const word = (slash < 0 ? resource : resource.slice(0, slash)).toLowerCase();
  const name = slash < 0 ? undefined : resource.slice(slash + 1);
  const kind = KIND_WORDS[word];
  if (kind === undefined) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `unknown resource ${JSON.stringify(resource)}: use ${STAT_RESOURCE_HELP}` });
  if (name !== undefined && !(kind === 'authority' ? HOST : NAME).test(name)) {
    throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `${JSON.stringify(name)} is not a valid ${kind === 'authority' ? 'host name' : 'name'} in ${JSON.stringify(resource)}` });
  }
  if (kind === 'namespace') return { kind, ...(name !== undefined ? { name } : {}) };
  return { kind, ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}) };
}

/** The queries of one `weft stat`, by what each answers. */
export interface StatQueries {
  readonly requests: string;
  readonly successes: string;
  readonly p50: string;
  readonly p95: string;
  readonly p99: string;
  /** Connections opened per second (undefined for routes: L7 alone). */
  readonly connections?: string;
  /** Per second, of connections (or, for routes, requests) with mutual TLS. */
  readonly mtls: string;
  /** What `mtls` is a share of. */
  readonly mtlsOf: 'connections' | 'requests';
}

export type StatAnswers = { readonly [K in Exclude<keyof StatQueries, 'mtlsOf'>]?: readonly VectorSample[] };

const REQUESTS = 'weft_requests_total';
const DURATION_BUCKETS = 'weft_request_duration_milliseconds_bucket';
const CONNECTIONS = 'weft_tcp_connections_opened_total';

/** The labels a kind groups by: the same on the request and the connection metrics. */
const GROUP_BY: Readonly<Record<StatKind, readonly string[]>> = {
  namespace: ['destination_workload_namespace'],
  workload: ['destination_workload_namespace', 'destination_workload'],
  route: ['route'],
  authority: ['destination_service_namespace', 'destination_service'],
};

/** The matchers selecting the target's series (on both metrics: they share these labels). */
export function targetMatchers(t: StatTarget): Matcher[] {
  switch (t.kind) {
    case 'namespace':
      return t.name !== undefined ? [eq('destination_workload_namespace', t.name)] : [];
    case 'workload':
      return [...(t.namespace !== undefined ? [eq('destination_workload_namespace', t.namespace)] : []), ...(t.name !== undefined ? [eq('destination_workload', t.name)] : [])];
    case 'route':
      if (t.name !== undefined) return [t.namespace !== undefined ? eq('route', `${t.namespace}/${t.name}`) : re('route', `[^/]+/${literalRegex(t.name)}`)];
      return t.namespace !== undefined ? [re('route', `${literalRegex(t.namespace)}/.+`)] : [];
    case 'authority':
      return [...(t.namespace !== undefined ? [eq('destination_service_namespace', t.namespace)] : []), ...(t.name !== undefined ? [re('destination_service', authorityRegex(t.name, t.namespace))] : [])];
  }
}

/**
 * The Service FQDNs an authority names, as a regex for `destination_service` (which holds the Service's
 * FQDN: the metrics keep no Host header, whose values are unbounded): `web` (in -n), `web.demo`,
 * `web.demo.svc` or the full name, in any cluster domain.
 */
function authorityRegex(host: string, namespace: string | undefined): string {
  const parts = host.split('.');
  if (parts.length === 1) return `${literalRegex(host)}\\.${namespace !== undefined ? literalRegex(namespace) : '[^.]+'}\\.svc\\..+`;
  if (parts.length === 2) return `${literalRegex(host)}\\.svc\\..+`;
  if (parts.length === 3 && parts[2] === 'svc') return `${literalRegex(host)}\\..+`;
  return literalRegex(host);
}

export function statQueries(t: StatTarget, window: string): StatQueries {
  const by = GROUP_BY[t.kind];
  const sel = targetMatchers(t);
  const l7 = [eq('reporter', 'waypoint'), ...sel];
  const l4 = [eq('reporter', 'destination'), ...sel];
  const mtls = eq('connection_security_policy', 'mutual_tls');
  const base = {
    requests: sumRate(REQUESTS, l7, by, window),
    successes: sumRate(REQUESTS, [...l7, { label: 'response_code', op: '!~', value: '5..' }, re('grpc_response_status', '|0')], by, window),
    p50: quantile(0.5, DURATION_BUCKETS, l7, by, window),
    p95: quantile(0.95, DURATION_BUCKETS, l7, by, window),
    p99: quantile(0.99, DURATION_BUCKETS, l7, by, window),
  };
  if (t.kind === 'route') return { ...base, mtls: sumRate(REQUESTS, [...l7, mtls], by, window), mtlsOf: 'requests' };
  return { ...base, connections: sumRate(CONNECTIONS, l4, by, window), mtls: sumRate(CONNECTIONS, [...l4, mtls], by, window), mtlsOf: 'connections' };
}

/** One row of `weft stat`: rates per second over the window, shares 0..1, latencies in ms; null: no data. */
export interface StatRow {
  /** The namespace of the row (for a namespace, itself); null for a route that is none (`passthrough`). */
  readonly namespace: string | null;
  readonly name: string;
  readonly requestsPerSecond: number | null;
  readonly successRate: number | null;
  readonly latencyMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };
  readonly connectionsPerSecond: number | null;
  readonly mtlsRate: number | null;
}

function rowKey(t: StatTarget, metric: Readonly<Record<string, string>>): { namespace: string | null; name: string } {
  switch (t.kind) {
    case 'namespace': {
      const ns = metric.destination_workload_namespace ?? 'unknown';
      return { namespace: ns, name: ns };
    }
    case 'workload':
      return { namespace: metric.destination_workload_namespace ?? 'unknown', name: metric.destination_workload ?? 'unknown' };
    case 'route': {
      const route = metric.route ?? 'none';
      const slash = route.indexOf('/');
      return slash < 0 ? { namespace: null, name: route } : { namespace: route.slice(0, slash), name: route.slice(slash + 1) };
    }
    case 'authority':
      return { namespace: metric.destination_service_namespace ?? 'unknown', name: metric.destination_service ?? 'unknown' };
  }
}

/** A finite number, else null (histogram_quantile is NaN with no requests in the window). */
const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** The rows the answers make, sorted by namespace and name: one per group any query answered for. */
export function statRows(t: StatTarget, q: Pick<StatQueries, 'mtlsOf'>, a: StatAnswers): StatRow[] {
  const keys = new Map<string, { namespace: string | null; name: string }>();
  const values = new Map<string, Map<string, number>>();
  for (const [what, samples] of Object.entries(a) as [string, readonly VectorSample[] | undefined][]) {
    for (const s of samples ?? []) {
      const k = rowKey(t, s.metric);
      const id = `${k.namespace ?? ''}\u0000${k.name}`;
      keys.set(id, k);
      let m = values.get(id);
      if (!m) values.set(id, (m = new Map<string, number>()));
      m.set(what, s.value);
    }
  }
  const rows = [...keys.entries()].map(([id, k]): StatRow => {
    const v = values.get(id) ?? new Map<string, number>();
    const requests = v.get('requests');
    const connections = v.get('connections');
    const total = q.mtlsOf === 'requests' ? requests : connections;
    return {
      ...k,
      requestsPerSecond: requests ?? null,
      successRate: requests !== undefined && requests > 0 ? (v.get('successes') ?? 0) / requests : null,
      latencyMs: { p50: finite(v.get('p50')), p95: finite(v.get('p95')), p99: finite(v.get('p99')) },
      connectionsPerSecond: q.mtlsOf === 'connections' ? (connections ?? null) : null,
      mtlsRate: total !== undefined && total > 0 ? Math.min(1, (v.get('mtls') ?? 0) / total) : null,
    };
  });
  return rows.sort((x, y) => (x.namespace ?? '').localeCompare(y.namespace ?? '') || x.name.localeCompare(y.name));
}
