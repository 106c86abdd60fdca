/**
 * Polls `fn` until it returns something other than undefined/false, instead of sleeping a fixed time and
 * hoping the system got there (informers, watchers, log writers and processes all apply changes
 * asynchronously). Throws after `timeoutMs` with what was awaited; generous by default for a slow shared
 * machine. `intervalMs` is only the poll period, never a synchronisation point.
 */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
  intervalMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * `eventually` for tests on vitest fake timers (which leave setImmediate and performance.now real): polls
 * `cond` between turns of the event loop, so real I/O progresses while fake time stands still; throws after
 * `timeoutMs` of real time.
 */
export async function eventuallyOnFakeTime(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}
