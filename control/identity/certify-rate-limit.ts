// Per-caller token buckets for IdentityService.Certify (hardening issue, S4): a node agent near CA expiry
// was seen making 6 836 Certify calls in 30 s, each one a signature. The bucket is keyed by the verified
// caller (see callerKey), so a caller cannot spread its calls over buckets by varying what it sends.
// Pure bookkeeping with an injected clock: the service decides what to answer, log and count.

export interface CallerRateLimitOptions {
  /** Calls a caller may make at once (bucket capacity). */
  readonly burst: number;
  /** Sustained calls per second per caller (refill rate). */
  readonly ratePerSecond: number;
  /** Buckets kept at most; past it, idle buckets go first, then the least recently used. Default 10 000. */
  readonly maxCallers?: number;
  /** A refused caller is reported at most once per this many ms (default 30 000). */
  readonly reportWindowMs?: number;
  /** Milliseconds clock; tests pass a fake one. Default Date.now. */
  readonly now?: () => number;
}

export type RateLimitDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** When one call will be allowed again. */
      readonly retryAfterMs: number;
      /**
       * Set on the first refusal of a report window: the refusals since the last report, this one included.
       * The caller logs then, so a storm of refusals costs one log line per caller per window.
       */
      readonly report?: { readonly refused: number };
    };

interface Bucket {
  tokens: number;
  updatedMs: number;
  /** When this bucket's refusals were last reported (-Infinity: never). */
  reportedMs: number;
  /** Refusals not reported yet. */
  refused: number;
}

/** Bounds and timings of the limiter; `maxCallers` and `reportWindowMs` can be overridden per instance. */
const DEFAULTS = {
  maxCallers: 10_000,
  /** How often full (idle) buckets are dropped when the map is not at its bound. */
  sweepIntervalMs: 60_000,
  /** At the bound, a sweep is tried at most this often; in between the least recently used bucket goes. */
  fullSweepMinIntervalMs: 1_000,
  reportWindowMs: 30_000,
} as const;

export class CallerRateLimiter {
  readonly burst: number;
  readonly ratePerSecond: number;
  private readonly maxCallers: number;
  private readonly reportWindowMs: number;
  private readonly now: () => number;
  /** Insertion order is recency order: a bucket is moved to the end on every call. */
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs: number;

  constructor(options: CallerRateLimitOptions) {
    if (!(options.burst >= 1) || !(options.ratePerSecond > 0)) throw new RangeError('burst must be >= 1 and ratePerSecond > 0');
    this.burst = options.burst;
    this.ratePerSecond = options.ratePerSecond;
    this.maxCallers = Math.max(1, options.maxCallers ?? DEFAULTS.maxCallers);
    this.reportWindowMs = options.reportWindowMs ?? DEFAULTS.reportWindowMs;
    this.now = options.now ?? Date.now;
    this.lastSweepMs = this.now();
  }

  /** Buckets currently held (tests; a bound on memory). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is there. */
  take(key: string): RateLimitDecision {
    const now = this.now();
    if (now - this.lastSweepMs >= DEFAULTS.sweepIntervalMs) this.sweep(now);
    let b = this.buckets.get(key);
    if (b === undefined) {
      this.makeRoom(now);
      b = { tokens: this.burst, updatedMs: now, reportedMs: -Infinity, refused: 0 };
    } else {
      this.buckets.delete(key); // re-inserted below: most recently used last
      b.tokens = this.refilled(b, now);
      b.updatedMs = now;
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true };
    }
    const retryAfterMs = Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / this.ratePerSecond));
    b.refused++;
    if (now - b.reportedMs < this.reportWindowMs) return { allowed: false, retryAfterMs };
    const report = { refused: b.refused };
    b.reportedMs = now;
    b.refused = 0;
    return { allowed: false, retryAfterMs, report };
  }

  private refilled(b: Bucket, now: number): number {
    return Math.min(this.burst, b.tokens + (Math.max(0, now - b.updatedMs) * this.ratePerSecond) / 1000);
  }

  /**
   * A bucket that has refilled is the same as no bucket, so dropping it forgets nothing. Only when every
   * bucket is still draining (more active callers than maxCallers) does the least recently used one go,
   * which hands that caller a fresh burst: the bound on memory wins over exactness there.
   */
  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxCallers) return;
    if (now - this.lastSweepMs >= DEFAULTS.fullSweepMinIntervalMs) this.sweep(now);
    if (this.buckets.size < this.maxCallers) return;
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }

  private sweep(now: number): void {
    this.lastSweepMs = now;
    for (const [key, b] of this.buckets) if (this.refilled(b, now) >= this.burst) this.buckets.delete(key);
  }
}
