import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import { WeftError, hasCode } from '../../lib/errors/index.js';
import type { HttpRouteRule } from '../../lib/model/index.js';
import type { Balancer, EndpointEntry } from '../balance/balancer.js';
import type { Deadline } from '../timeout/deadline.js';
import type { UpstreamClients, UpstreamProtocol } from '../upstream/clients.js';
import type { Headers, UpstreamRequest, UpstreamResponse } from '../upstream/exchange.js';
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

export class Retrier {
  constructor(private readonly o: RetrierOptions) {}

  /** Runs the tries; leaves either `req.response` (then call finish()) or `req.error`/`req.status`. */
  async run(req: TryRequest): Promise<void> {
    const { balancer, clients } = this.o;
    const retry = req.retry;
    const d = req.deadline;
    const budget = retry ? this.o.budgets.get(req.routeLabel) : undefined;
    budget?.deposit();
    for (let attempt = 0; ; attempt++) {
      const entry = (req.entry = balancer.pick(req.target.endpoints));
      req.signal = d?.startTry();
      req.body = req.replay ? req.replay.next() : null;
      req.headers['x-weft-attempt'] = String(attempt + 1);
      req.startedAt = this.o.clock.now();
      let response: UpstreamResponse | undefined;
      let failure: unknown;
      try {
        response = await clients.request(req.protocol, entry.endpoint, req);
      } catch (err) {
        failure = err;
      }

      if (!response) {
        balancer.done(entry);
        d?.endTry();
        balancer.failed(entry, req.target.label);
        if (d && (d.requestTimedOut || (d.tryTimedOut && !(retry?.codes.includes(504) ?? false)))) return this.fail(req, d.error(), 504);
        if (d?.aborted) return this.fail(req, undefined, 499); // the client went away
        if (this.mayRetry(req, attempt, budget) && (await this.beforeRetry(req))) {
          this.o.metrics.retry(req.routeLabel, req.serviceLabel);
          continue;
        }
        if (d?.requestTimedOut) return this.fail(req, d.error(), 504);
        const tryTimedOut = d?.tryTimedOut ?? false;
        // The endpoint answered, but not in valid HTTP/1.1: a bad gateway, not an unavailable one.
        if (!tryTimedOut && hasCode(failure, 'ERR_WEFT_WAYPOINT_BAD_RESPONSE')) return this.fail(req, failure, 502);
        const reason = tryTimedOut ? `backendRequest timeout of ${d!.tryMs} ms` : failure instanceof Error ? failure.message : String(failure);
        return this.fail(req, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: req.target.label, reason }), tryTimedOut ? 504 : 503);
      }

      const status = response.status;
      const g = req.grpc ? grpcStatusOf(response.headers) : undefined;
      const retryable = status >= 500 ? (retry?.codes.includes(status) ?? false) : g !== undefined && g !== '0' && (retry?.grpcCodes ?? NO_CODES).includes(Number(g));
      if (status >= 500 || g === '14' || g === '13') balancer.failed(entry, req.target.label);
      if (retryable && this.mayRetry(req, attempt, budget)) {
        balancer.done(entry);
        d?.endTry();
        drop(response);
        if (await this.beforeRetry(req)) {
          this.o.metrics.retry(req.routeLabel, req.serviceLabel);
          continue;
        }
        if (d?.requestTimedOut) return this.fail(req, d.error(), 504);
        return this.fail(req, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: req.target.label, reason: `status ${status}` }), 503);
      }
      if (status < 500 && (g === undefined || g === '0')) balancer.succeeded(entry);
      if (g !== undefined) req.grpcStatus = g;
      req.response = response;
      req.status = status;
      return;
    }
  }

  /** The forwarded response is over (`ok`: its body was written completely): closes its try. */
  finish(req: TryRequest, ok: boolean): void {
    const entry = req.entry!;
    if (ok) this.o.balancer.observe(entry, req.startedAt);
    this.o.balancer.done(entry);
    req.deadline?.end();
  }

  private fail(req: TryRequest, error: WeftError | undefined, status: number): void {
    req.deadline?.end();
    req.error = error;
    req.status = status;
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

  /** Waits for the body to be complete (so it can be replayed) and for the backoff; false to give up. */
  private async beforeRetry(req: TryRequest): Promise<boolean> {
    if (req.replay && !(await req.replay.complete())) return false;
    const signal = req.deadline?.signal;
    const backoffMs = req.retry!.backoffMs;
    if (backoffMs && backoffMs > 0) {
      const ms = Math.round(backoffMs / 2 + (this.o.random() * backoffMs) / 2);
      const clock = this.o.clock;
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(done, ms);
        function done(): void {
          clock.clearTimeout(t);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done);
      });
    }
    return !(signal?.aborted ?? false);
  }
}
