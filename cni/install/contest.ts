import { Backoff } from '../../lib/backoff.js';

export interface ContestOptions {
  /** Reverts within windowMs that make a contest (fewer are an installer re-rendering its config once). */
  readonly threshold: number;
  readonly windowMs: number;
  readonly backoffInitialMs: number;
  /** Cap of the delay between two re-chains while contested. */
  readonly backoffMaxMs: number;
  readonly random?: () => number;
}

export interface Revert {
  /** Reverts within the window, this one included. */
  readonly reverts: number;
  readonly contested: boolean;
  /** True for the revert that started the contest. */
  readonly started: boolean;
  /** How long to wait before the next re-chain (0 when not contested). */
  readonly holdMs: number;
}

/** Timestamps kept: enough to count up to any sane threshold, bounded whatever the other writer does. */
const MAX_REMEMBERED = 64;

/**
 * Tells a fight over the conflist from an ordinary rewrite. Another installer that renders its config again
 * (Calico on upgrade) takes weft-cni out once or twice; one that insists on owning the file (Cilium with
 * cni.exclusive=true) takes it out every time it is put back. Re-chaining at once then makes both loop
 * on the file (measured: 69 re-chains in 5 s). From `threshold` reverts within `windowMs` on, each
 * re-chain waits an exponentially growing, capped delay; a window without reverts ends the contest.
 */
export class ContestTracker {
  private readonly times: number[] = [];
  private contested = false;
  private readonly backoff: Backoff;

  constructor(private readonly opts: ContestOptions) {
    this.backoff = new Backoff({ initialMs: Math.min(opts.backoffInitialMs, opts.backoffMaxMs), maxMs: opts.backoffMaxMs, ...(opts.random ? { random: opts.random } : {}) });
  }

  get isContested(): boolean {
    return this.contested;
  }

  /** A pass had to put weft-cni back into a file it had already been chained into. */
  revert(now: number): Revert {
    this.prune(now);
    this.times.push(now);
    if (this.times.length > MAX_REMEMBERED) this.times.shift();
    const started = !this.contested && this.times.length >= this.opts.threshold;
    if (started) this.contested = true;
    return { reverts: this.times.length, contested: this.contested, started, holdMs: this.contested ? this.backoff.next() : 0 };
  }

  /** A pass found weft-cni in place; true when that ends a contest (no revert for a whole window). */
  settled(now: number): boolean {
    this.prune(now);
    if (!this.contested || this.times.length > 0) return false;
    this.contested = false;
    this.backoff.reset();
    return true;
  }

  private prune(now: number): void {
    while (this.times.length > 0 && now - this.times[0] >= this.opts.windowMs) this.times.shift();
  }
}
