import { Counter, type Registry } from 'prom-client';

// Golden metrics of the waypoint. weft_requests_total and weft_request_duration_milliseconds are kept in
// our own cells, one per label combination, and rendered by the registry at scrape time: prom-client's
// labelled inc()/observe() re-validate and re-hash all seven labels and allocate on every call (a few µs
// per request in bench/waypoint); here a request costs one Map lookup by a short key within its
// connection's scope, and three number updates. Retries, budget exhaustion and ejections are rare and
// stay plain prom-client counters.

export interface RequestLabels {
  readonly response_code: string;
  readonly grpc_status: string;
  readonly source_workload: string;
  readonly source_principal: string;
  readonly destination_service: string;
  readonly route: string;
  readonly backend: string;
}

const BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/** Counts and latency histogram of one label combination. */
class RequestCell {
  count = 0;
  sum = 0;
  /** Per bucket (not cumulative), plus one for +Inf. */
  readonly buckets = new Float64Array(BUCKETS.length + 1);

  constructor(readonly labels: RequestLabels) {}

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

  constructor(
    private readonly all: RequestCell[],
    private readonly sourceWorkload: string,
    private readonly sourcePrincipal: string,
    private readonly destinationService: string,
  ) {}

  /** Counts one request and observes its duration. */
  request(status: number, grpcStatus: string, route: string, backend: string, ms: number): void {
    const key = `${status}|${grpcStatus}|${route}|${backend}`;
    let c = this.cells.get(key);
    if (!c) {
      c = new RequestCell({
        response_code: String(status),
        grpc_status: grpcStatus,
        source_workload: this.sourceWorkload,
        source_principal: this.sourcePrincipal,
        destination_service: this.destinationService,
        route,
        backend,
      });
      this.cells.set(key, c);
      this.all.push(c);
    }
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

  /** The scope for a connection's labels; shared by every connection with the same ones. */
  scope(sourceWorkload: string, sourcePrincipal: string, destinationService: string): RequestScope {
    const key = `${sourceWorkload}|${sourcePrincipal}|${destinationService}`;
    let s = this.scopes.get(key);
    if (!s) this.scopes.set(key, (s = new RequestScope(this.cells, sourceWorkload, sourcePrincipal, destinationService)));
    return s;
  }

  /** Counts a request given all its labels (callers without a scope). */
  request(l: RequestLabels, durationMs: number): void {
    this.scope(l.source_workload, l.source_principal, l.destination_service).request(Number(l.response_code), l.grpc_status, l.route, l.backend, durationMs);
  }

  retry(route: string, service: string): void {
    this.retries.inc({ route, destination_service: service });
  }

  budgetExhaustion(route: string, service: string): void {
    this.budgetExhausted.inc({ route, destination_service: service });
  }

  ejection(backend: string): void {
    this.ejections.inc({ backend });
  }

  denied(service: string, policy: string | undefined, rule: number | undefined): void {
    this.denials.inc({ destination_service: service, policy: policy ?? 'none', rule: rule === undefined ? 'none' : String(rule) });
  }

  badRequest(service: string): void {
    this.badRequests.inc({ destination_service: service });
  }
}
