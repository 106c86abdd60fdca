// Retry budget (Linkerd's): over a sliding 10 s window, retries may add at most 20 % of the requests
// plus a floor of 10 retries per second, so a failing backend sees at most ~1.2× its normal load instead
// of (attempts + 1)×. Kept in one-second buckets: two small arrays, no allocation per request.

export interface BudgetOptions {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly windowMs: number;
}

export const DEFAULT_BUDGET: BudgetOptions = { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 };

const BUCKET_MS = 1_000;

export class RetryBudget {
  private readonly requests: Float64Array;
  private readonly retries: Float64Array;
  private bucket = -1;

  constructor(
    private readonly options: BudgetOptions = DEFAULT_BUDGET,
    private readonly now: () => number = () => performance.now(),
  ) {
    const n = Math.max(1, Math.ceil(options.windowMs / BUCKET_MS));
    this.requests = new Float64Array(n);
    this.retries = new Float64Array(n);
  }

  private advance(): number {
    const b = Math.floor(this.now() / BUCKET_MS);
    const n = this.requests.length;
    if (this.bucket < 0) this.bucket = b;
    if (b - this.bucket >= n) {
      this.requests.fill(0);
      this.retries.fill(0);
    } else {
      for (let x = this.bucket + 1; x <= b; x++) {
        this.requests[x % n] = 0;
        this.retries[x % n] = 0;
      }
    }
    this.bucket = Math.max(this.bucket, b);
    return b % n;
  }

  /** Counts an original request (not a retry). */
  deposit(): void {
    this.requests[this.advance()] += 1;
  }

  /** True (and counted) when one more retry fits the budget. */
  withdraw(): boolean {
    const slot = this.advance();
    let reqs = 0;
    let rets = 0;
    for (let i = 0; i < this.requests.length; i++) {
      reqs += this.requests[i];
      rets += this.retries[i];
    }
    const allowed = this.options.minPerSecond * (this.options.windowMs / 1000) + this.options.ratio * reqs;
    if (rets + 1 > allowed) return false;
    this.retries[slot] += 1;
    return true;
  }
}

/** One budget per route (retries of one route never spend another's), on the waypoint's clock. */
export class RetryBudgets {
  private readonly budgets = new Map<string, RetryBudget>();

  constructor(private readonly now: () => number) {}

  get(route: string): RetryBudget {
    let b = this.budgets.get(route);
    if (!b) this.budgets.set(route, (b = new RetryBudget(DEFAULT_BUDGET, this.now)));
    return b;
  }
}
