/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): every retry loop in weft
 * uses it so that many clients losing the same server do not come back in step.
 */
export interface BackoffOptions {
  /** First delay ceiling in ms. */
  readonly initialMs: number;
  /** Largest delay ceiling in ms. */
  readonly maxMs: number;
  /** Multiplier per attempt (default 2). */
  readonly factor?: number;
  /** Give up after this many attempts (default unbounded; callers that must stop set it). */
  readonly maxAttempts?: number;
  /** Random source in [0, 1); tests pin it. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** True once `maxAttempts` delays have been handed out. */
  get exhausted(): boolean {
    return this.options.maxAttempts !== undefined && this.attempt >= this.options.maxAttempts;
  }

  /** The next delay in ms: uniform in [ceiling/2, ceiling], the ceiling growing per attempt up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Applies ±`fraction` uniform jitter to a delay, e.g. for renewal timers. */
export function jitter(ms: number, fraction: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(ms * (1 - fraction + 2 * fraction * random())));
}
