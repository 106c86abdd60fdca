// Time as a dependency: code whose behaviour depends on elapsed time (deadlines, backoff, sliding windows)
// takes a Clock instead of calling performance.now()/setTimeout itself, so its tests can run on fake time
// (test/support/fake-clock.ts) instead of waiting on the wall clock.

/** An opaque timer handle, only ever given back to the clock that made it. */
export type ClockTimer = object | number;

export interface Clock {
  /** Monotonic milliseconds (performance.now() on the real clock). */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
