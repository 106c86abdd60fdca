import type { Clock, ClockTimer } from '../../lib/clock.js';

/**
 * A Clock that moves only when a test moves it: code under test (the waypoint's deadlines, backoff and
 * retry budget) sees time pass without the test waiting for it. Timers fire in time order, each at its
 * due time, during advance()/advanceToNext().
 */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as number);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next[1].at > end) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }

  /** Moves time to the earliest timer and fires it (and any due at the same time); false if none. */
  advanceToNext(): boolean {
    const next = this.earliest();
    if (!next) return false;
    this.advance(next[1].at - this.time);
    return true;
  }

  /**
   * Lets `work` run on real I/O, jumping the clock to the next timer whenever the waypoint waits on one
   * (a backoff, a deadline), until `work` settles.
   */
  async runUntil<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => (settled = true));
    // Real I/O (loopback sockets) needs real turns of the event loop between jumps.
    while (!settled) {
      await new Promise((r) => setTimeout(r, 1));
      if (!settled) this.advanceToNext();
    }
    return done;
  }

  private earliest(): [number, { at: number; fn: () => void }] | undefined {
    let best: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.timers) if (!best || e[1].at < best[1].at) best = e;
    return best;
  }
}
