import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import { WeftError, hasCode } from '../../lib/errors/index.js';
import type { HttpRouteRule } from '../../lib/model/index.js';
import type { Balancer, EndpointEntry } from '../balance/balancer.js';
import type { Deadline } from '../timeout/deadline.js';
import type { UpstreamClients, UpstreamProtocol } from '../upstream/clients.js';
import type { Headers, UpstreamCallback, UpstreamRequest, UpstreamResponse } from '../upstream/exchange.js';
import type { RetryBudget, RetryBudgets } from './budget.js';
import type { ReplayableBody } from './replay-body.js';

// The retry layer of the request path: sends the request through the timeout layer (Deadline), the
// balance layer (Balancer) and an upstream client, and tries again on the route's retryable statuses or
// on a failed try, while the request body can be replayed, the route's retry budget allows it and the
// request timeout has not fired; `backoff` spaces the tries (jittered, on the waypoint's clock). It only
// decides: the forward layer writes the response or the local error the run leaves in the request.

export type RetryPolicy = NonNullable<HttpRouteRule['retry']>;

/** Where the tries go: a backend with at least one endpoint. */
export interface TryTarget {
  /** `namespace/name:port`, for metrics and logs. */
  readonly label: string;
  readonly endpoints: readonly EndpointEntry[];
}

/** One request on its way through the retry layer; what it sends upstream on each try, and the outcome. */
export interface TryRequest extends UpstreamRequest {
  readonly headers: Headers;
  /** Set per try: live on the first, the replayed copy afterwards. */
  body: Readable | Buffer | null;
  /** Set per try, when a deadline applies. */
  signal: AbortSignal | undefined;
  readonly replay: ReplayableBody | null;
  readonly protocol: UpstreamProtocol;
  readonly grpc: boolean;
  readonly routeLabel: string;
  readonly serviceLabel: string;
  readonly target: TryTarget;
  readonly retry: RetryPolicy | undefined;
  readonly deadline: Deadline | undefined;
  /** Outcome: the response to forward (its try stays open until finish()) … */
  response: UpstreamResponse | undefined;
  /** … or the local error to answer with, and the status counted for it (499 alone: the client left). */
  error: WeftError | undefined;
  status: number;
  /** gRPC status of the response's head, '' if none. */
  grpcStatus: string;
  /** The endpoint of the last try, and when that try started. */
  entry: EndpointEntry | undefined;
  startedAt: number;
}

/** Counts retries and budget refusals (weft_retries_total, weft_retry_budget_exhausted_total). */
export interface RetryCounters {
  retry(route: string, service: string): void;
  budgetExhaustion(route: string, service: string): void;
}

export interface RetrierOptions {
  readonly clients: UpstreamClients;
  readonly balancer: Balancer;
  readonly budgets: RetryBudgets;
  readonly metrics: RetryCounters;
  readonly clock: Clock;
  readonly random: () => number;
}

const NO_CODES: readonly number[] = [];

function grpcStatusOf(h: Headers): string | undefined {
  const v = h['grpc-status'];
  return Array.isArray(v) ? v[0] : v;
}

function ignore(): void {}

/** Drops a response we will not forward; an HTTP/1.1 body is drained so its connection is reused. */
function drop(r: UpstreamResponse): void {
  if (r.discard) r.discard();
  else {
    r.body.on('error', ignore);
    r.body.destroy();
  }
}

/** How a run ends: the request with its outcome, or the exception that broke the run. */
type Done<R> = (req: R, unexpected?: unknown) => void;

/** One request's run through the tries: where each try's outcome comes back. */
class Run {
  attempt = 0;

  constructor(
    private readonly retrier: Retrier,
    readonly req: TryRequest,
    readonly budget: RetryBudget | undefined,
    readonly done: Done<TryRequest>,
  ) {}

  /** Called by the upstream client, from its socket's events: never lets an exception escape there. */
  readonly outcome: UpstreamCallback = (err, response) => {
    try {
      this.retrier.outcome(this, err, response);
    } catch (e) {
      this.done(this.req, e);
    }
  };
}

/** `x-weft-attempt` values, so a try does not format a number. */
const ATTEMPT = ['1', '2', '3', '4', '5', '6', '7', '8'];

export class Retrier {
  constructor(private readonly o: RetrierOptions) {}

  /**
   * Runs the tries; then calls `done` once, with either `req.response` set (then call finish()) or
   * `req.error`/`req.status`, or with the exception that broke the run. No promise on this path: the
   * response is handed on from the upstream connection's read callback (it may even come before run()
   * returns, when a try fails at once).
   */
  run<R extends TryRequest>(req: R, done: Done<R>): void {
    const budget = req.retry ? this.o.budgets.get(req.routeLabel) : undefined;
    budget?.deposit();
    // `done` gets back the very request it was given.
    this.try(new Run(this, req, budget, done as Done<TryRequest>));
  }

  private try(run: Run): void {
    const req = run.req;
    const d = req.deadline;
    const entry = (req.entry = this.o.balancer.pick(req.target.endpoints));
    req.signal = d?.startTry();
    req.body = req.replay ? req.replay.next() : null;
    req.headers['x-weft-attempt'] = ATTEMPT[run.attempt] ?? String(run.attempt + 1);
    req.startedAt = this.o.clock.now();
    this.o.clients.request(req.protocol, entry.key, entry.endpoint, req, run.outcome);
  }

  /** A try's outcome (from Run.outcome): done, or another try. */
  outcome(run: Run, failure: Error | null, response: UpstreamResponse | undefined): void {
    const { balancer } = this.o;
    const req = run.req;
    const retry = req.retry;
    const d = req.deadline;
    const entry = req.entry!;
    if (!response) {
      balancer.done(entry);
      d?.endTry();
      balancer.failed(entry, req.target.label);
      if (d && (d.requestTimedOut || (d.tryTimedOut && !(retry?.codes.includes(504) ?? false)))) return this.fail(run, d.error(), 504);
      if (d?.aborted) return this.fail(run, undefined, 499); // the client went away
      const giveUp = (): void => {
        if (d?.requestTimedOut) return this.fail(run, d.error(), 504);
        const tryTimedOut = d?.tryTimedOut ?? false;
        // The endpoint answered, but not in valid HTTP/1.1: a bad gateway, not an unavailable one.
        if (!tryTimedOut && hasCode(failure, 'ERR_WEFT_WAYPOINT_BAD_RESPONSE')) return this.fail(run, failure, 502);
        const reason = tryTimedOut ? `backendRequest timeout of ${d!.tryMs} ms` : failure instanceof Error ? failure.message : String(failure);
        this.fail(run, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: req.target.label, reason }), tryTimedOut ? 504 : 503);
      };
      if (this.mayRetry(req, run.attempt, run.budget)) this.beforeRetry(run, giveUp);
      else giveUp();
      return;
    }

    const status = response.status;
    const g = req.grpc ? grpcStatusOf(response.headers) : undefined;
    const retryable = status >= 500 ? (retry?.codes.includes(status) ?? false) : g !== undefined && g !== '0' && (retry?.grpcCodes ?? NO_CODES).includes(Number(g));
    if (status >= 500 || g === '14' || g === '13') balancer.failed(entry, req.target.label);
    if (retryable && this.mayRetry(req, run.attempt, run.budget)) {
      balancer.done(entry);
      d?.endTry();
      drop(response);
      this.beforeRetry(run, () => {
        if (d?.requestTimedOut) return this.fail(run, d.error(), 504);
        this.fail(run, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: req.target.label, reason: `status ${status}` }), 503);
      });
      return;
    }
    if (status < 500 && (g === undefined || g === '0')) balancer.succeeded(entry);
    if (g !== undefined) req.grpcStatus = g;
    req.response = response;
    req.status = status;
    run.done(req);
  }

  /** The forwarded response is over (`ok`: its body was written completely): closes its try. */
  finish(req: TryRequest, ok: boolean): void {
    const entry = req.entry!;
    if (ok) this.o.balancer.observe(entry, req.startedAt);
    this.o.balancer.done(entry);
    req.deadline?.end();
  }

  private fail(run: Run, error: WeftError | undefined, status: number): void {
    const req = run.req;
    req.deadline?.end();
    req.error = error;
    req.status = status;
    run.done(req);
  }

  private mayRetry(req: TryRequest, attempt: number, budget: RetryBudget | undefined): boolean {
    if (!req.retry || attempt >= req.retry.attempts || req.deadline?.aborted) return false;
    if (req.replay && !req.replay.replayable) return false;
    if (!budget!.withdraw()) {
      this.o.metrics.budgetExhaustion(req.routeLabel, req.serviceLabel);
      return false;
    }
    return true;
  }

  /**
   * Waits for the body to be complete (so it can be replayed) and for the backoff, then tries again, or
   * calls `giveUp` (the body cannot be replayed, or the request was aborted meanwhile).
   */
  private beforeRetry(run: Run, giveUp: () => void): void {
    const req = run.req;
    const next = (ok: boolean): void => {
      try {
        if (!ok) return giveUp();
        this.o.metrics.retry(req.routeLabel, req.serviceLabel);
        run.attempt++;
        this.try(run);
      } catch (e) {
        run.done(req, e);
      }
    };
    if (req.replay) req.replay.complete().then((complete) => (complete ? this.backoff(req, next) : next(false)), (e: unknown) => run.done(req, e));
    else this.backoff(req, next);
  }

  /** The route's jittered backoff on the waypoint's clock; `next(false)` when the request was aborted. */
  private backoff(req: TryRequest, next: (ok: boolean) => void): void {
    const signal = req.deadline?.signal;
    const backoffMs = req.retry!.backoffMs;
    if (!backoffMs || backoffMs <= 0) {
      next(!(signal?.aborted ?? false));
      return;
    }
    const ms = Math.round(backoffMs / 2 + (this.o.random() * backoffMs) / 2);
    const clock = this.o.clock;
    const t = clock.setTimeout(done, ms);
    function done(): void {
      clock.clearTimeout(t);
      signal?.removeEventListener('abort', done);
      next(!(signal?.aborted ?? false));
    }
    signal?.addEventListener('abort', done);
  }
}
