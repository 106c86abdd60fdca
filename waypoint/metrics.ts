import { Counter, type Registry } from 'prom-client';
import type { PeerWorkload } from '../lib/model/index.js';
import { UNKNOWN, serviceLabelsOf, type ServiceLabels } from '../lib/telemetry/istio-labels.js';

// Golden metrics of the waypoint, with Istio's standard labels (docs/metrics.md). weft_requests_total and
// weft_request_duration_milliseconds are kept in our own cells, one per label combination, and rendered
// by the registry at scrape time: prom-client's labelled inc()/observe() re-validate and re-hash all the
// labels and allocate on every call (a few µs per request in bench/waypoint). Here the labels of a
// connection (source, Service) are built once per tunnel and those of an endpoint (destination workload)
// once per state change; a request costs one short key string, one Map lookup within its connection's
// scope and three number updates. Retries, budget exhaustion and ejections are rare and stay plain
// prom-client counters. Every label is bounded: workloads are owners (never pods), routes and backends
// come from configuration, codes and flags from fixed tables.

/** The endpoint a request went to, as its labels; built when the waypoint's state index is. */
export interface DestinationLabels {
  readonly workload: string;
  readonly namespace: string;
  readonly principal: string;
  /** Short key among a connection's cells. */
  readonly key: string;
}

/** No endpoint was reached (a local answer: denied, no route, no endpoint). */
export const NO_DESTINATION: DestinationLabels = Object.freeze({ workload: UNKNOWN, namespace: UNKNOWN, principal: UNKNOWN, key: '-' });

/** The labels of an endpoint's workload. */
export function destinationLabels(peer: PeerWorkload, principal: string | undefined): DestinationLabels {
  const p = principal ?? UNKNOWN;
  return Object.freeze({ workload: peer.workload, namespace: peer.namespace, principal: p, key: `${peer.namespace}/${peer.workload}/${p}` });
}

type Labels = Record<string, string>;

/** The labels of every request cell, in the order RequestScope builds them. */
export const REQUEST_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'connection_security_policy',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'route',
  'backend',
] as const;

/** Istio's histogram buckets in milliseconds (p50/p95/p99 from 0.5 ms to 10 min). */
const BUCKETS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000];

/** Counts and latency histogram of one label combination. */
class RequestCell {
  count = 0;
  sum = 0;
  /** Per bucket (not cumulative), plus one for +Inf. */
  readonly buckets = new Float64Array(BUCKETS.length + 1);

  constructor(readonly labels: Readonly<Labels>) {}

  observe(ms: number): void {
    this.count++;
    this.sum += ms;
    let i = 0;
    while (i < BUCKETS.length && ms > BUCKETS[i]) i++;
    this.buckets[i]++;
  }
}

/** The labels one connection (tunnel) shares across its requests. */
export class RequestScope {
  private readonly cells = new Map<string, RequestCell>();
  // The previous request's labels and cell: most requests of a connection share every label, and then
  // no key string is built, flattened and hashed (a few % of the waypoint's CPU in bench/waypoint).
  private lastStatus = -1;
  private lastGrpc = '';
  private lastFlag = '';
  private lastRoute = '';
  private lastBackend = '';
  private lastDst: DestinationLabels | undefined;
  private lastCell: RequestCell | undefined;

  constructor(
    private readonly all: RequestCell[],
    /** reporter, source_*, destination_service*, connection_security_policy. */
    private readonly base: Readonly<Labels>,
  ) {}

  /** Counts one request and observes its duration. `flag`: `-` for an answer from upstream. */
  request(status: number, grpcStatus: string, flag: string, route: string, backend: string, dst: DestinationLabels, ms: number): void {
    const last = this.lastCell;
    if (last !== undefined && status === this.lastStatus && dst === this.lastDst && grpcStatus === this.lastGrpc && flag === this.lastFlag && route === this.lastRoute && backend === this.lastBackend) {
      last.observe(ms);
      return;
    }
    const key = `${status}|${grpcStatus}|${flag}|${route}|${backend}|${dst.key}`;
    let c = this.cells.get(key);
    if (!c) {
      c = new RequestCell({
        ...this.base,
        destination_workload: dst.workload,
        destination_workload_namespace: dst.namespace,
        destination_principal: dst.principal,
        // A gRPC answer always carries a status; plain HTTP has none.
        request_protocol: grpcStatus === '' ? 'http' : 'grpc',
        response_code: String(status),
        grpc_response_status: grpcStatus,
        response_flags: flag,
        route,
        backend,
      });
      this.cells.set(key, c);
      this.all.push(c);
    }
    this.lastStatus = status;
    this.lastGrpc = grpcStatus;
    this.lastFlag = flag;
    this.lastRoute = route;
    this.lastBackend = backend;
    this.lastDst = dst;
    this.lastCell = c;
    c.observe(ms);
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric the prom-client registry renders from our cells (the registry only needs name, help, type, get). */
class CellMetric {
  readonly aggregator = 'sum';
  /** As on prom-client's metrics (docs/metrics.md is checked against them). */
  readonly labelNames = REQUEST_LABELS;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly cells: RequestCell[],
  ) {}

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    for (const c of this.cells) {
      if (this.type === 'counter') {
        values.push({ labels: { ...c.labels }, value: c.count });
        continue;
      }
      let cumulative = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        cumulative += c.buckets[i];
        values.push({ labels: { ...c.labels, le: BUCKETS[i] }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const c of this.cells) {
      c.count = 0;
      c.sum = 0;
      c.buckets.fill(0);
    }
  }
}

export class WaypointMetrics {
  private readonly cells: RequestCell[] = [];
  private readonly scopes = new Map<string, RequestScope>();
  private readonly retries: Counter<'route' | 'destination_service'>;
  private readonly budgetExhausted: Counter<'route' | 'destination_service'>;
  private readonly ejections: Counter<'backend'>;
  private readonly badRequests: Counter<'destination_service'>;
  private readonly denials: Counter<'destination_service' | 'policy' | 'rule'>;

  constructor(registry: Registry) {
    registry.registerMetric(new CellMetric('weft_requests_total', 'Requests handled by the waypoint, by response and route', 'counter', this.cells) as never);
    registry.registerMetric(new CellMetric('weft_request_duration_milliseconds', 'Time from request received to response completed, including retries', 'histogram', this.cells) as never);
    this.retries = new Counter({
      name: 'weft_retries_total',
      help: 'Retries sent by the waypoint',
      labelNames: ['route', 'destination_service'],
      registers: [registry],
    });
    this.budgetExhausted = new Counter({
      name: 'weft_retry_budget_exhausted_total',
      help: 'Retries not sent because the retry budget was spent',
      labelNames: ['route', 'destination_service'],
      registers: [registry],
    });
    this.ejections = new Counter({
      name: 'weft_endpoint_ejections_total',
      help: 'Endpoints ejected by the circuit breaker after consecutive failures',
      labelNames: ['backend'],
      registers: [registry],
    });
    // Bounded by the policies that apply at this waypoint and their rules, not by clients or requests.
    this.denials = new Counter({
      name: 'weft_waypoint_denied_total',
      help: 'Requests refused with 403 by an AuthorizationPolicy, by the deciding policy (namespace/name; when no ALLOW policy matched, all of them) and rule index ("none" when no rule matched)',
      labelNames: ['destination_service', 'policy', 'rule'],
      registers: [registry],
    });
    this.badRequests = new Counter({
      name: 'weft_waypoint_bad_requests_total',
      help: 'HTTP/1.1 requests refused with 400 by the waypoint parser (malformed, ambiguous or over a limit); never forwarded',
      labelNames: ['destination_service'],
      registers: [registry],
    });
  }

  /** The scope for a connection's labels (once per tunnel); shared by every connection with the same ones. */
  scope(source: PeerWorkload, sourcePrincipal: string | undefined, service: ServiceLabels): RequestScope {
    const principal = sourcePrincipal ?? UNKNOWN;
    const key = `${source.namespace}|${source.workload}|${principal}|${service.destination_service}`;
    let s = this.scopes.get(key);
    if (!s) {
      const base: Labels = {
        reporter: 'waypoint',
        source_workload: source.workload,
        source_workload_namespace: source.namespace,
        source_principal: principal,
        ...service,
        // The waypoint is reached only over HBONE: the client's hop is mutual TLS.
        connection_security_policy: 'mutual_tls',
      };
      this.scopes.set(key, (s = new RequestScope(this.cells, Object.freeze(base))));
    }
    return s;
  }

  retry(route: string, service: string): void {
    this.retries.inc({ route, destination_service: fqdnOf(service) });
  }

  budgetExhaustion(route: string, service: string): void {
    this.budgetExhausted.inc({ route, destination_service: fqdnOf(service) });
  }

  ejection(backend: string): void {
    this.ejections.inc({ backend });
  }

  denied(service: string, policy: string | undefined, rule: number | undefined): void {
    this.denials.inc({ destination_service: fqdnOf(service), policy: policy ?? 'none', rule: rule === undefined ? 'none' : String(rule) });
  }

  badRequest(service: string): void {
    this.badRequests.inc({ destination_service: fqdnOf(service) });
  }
}

// The rare counters above are called with the Service as `namespace/name` (the form logs use); their
// destination_service label is the FQDN, as on the request metrics. Bounded by the Services.
const fqdns = new Map<string, string>();
function fqdnOf(serviceLabel: string): string {
  let f = fqdns.get(serviceLabel);
  if (f === undefined) {
    const slash = serviceLabel.indexOf('/');
    f = slash < 0 ? serviceLabel : serviceLabelsOf({ namespace: serviceLabel.slice(0, slash), name: serviceLabel.slice(slash + 1) }).destination_service;
    fqdns.set(serviceLabel, f);
  }
  return f;
}
