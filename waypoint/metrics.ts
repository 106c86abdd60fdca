import { Counter, Histogram, type Registry } from 'prom-client';

// Golden metrics of the waypoint. Label children are cached per label combination so the per-request cost
// is one Map lookup instead of prom-client's label hashing.

export interface RequestLabels {
  readonly response_code: string;
  readonly grpc_status: string;
  readonly source_workload: string;
  readonly source_principal: string;
  readonly destination_service: string;
  readonly route: string;
  readonly backend: string;
}

const LABELS = ['response_code', 'grpc_status', 'source_workload', 'source_principal', 'destination_service', 'route', 'backend'] as const;

export class WaypointMetrics {
  private readonly requests: Counter<(typeof LABELS)[number]>;
  private readonly duration: Histogram<(typeof LABELS)[number]>;
  private readonly retries: Counter<'route' | 'destination_service'>;
  private readonly budgetExhausted: Counter<'route' | 'destination_service'>;
  private readonly ejections: Counter<'backend'>;
  private readonly children = new Map<string, { inc: () => void; observe: (v: number) => void }>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'weft_requests_total',
      help: 'Requests handled by the waypoint, by response and route',
      labelNames: LABELS,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'weft_request_duration_milliseconds',
      help: 'Time from request received to response completed, including retries',
      labelNames: LABELS,
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000],
      registers: [registry],
    });
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
  }

  request(l: RequestLabels, durationMs: number): void {
    const key = `${l.response_code}|${l.grpc_status}|${l.source_workload}|${l.source_principal}|${l.destination_service}|${l.route}|${l.backend}`;
    let c = this.children.get(key);
    if (!c) {
      const counter = this.requests.labels(l);
      const hist = this.duration.labels(l);
      c = { inc: () => counter.inc(), observe: (v: number) => hist.observe(v) };
      // Bounded: labels come from config and identities, but cap anyway against churn.
      if (this.children.size > 10_000) this.children.clear();
      this.children.set(key, c);
    }
    c.inc();
    c.observe(durationMs);
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
}
