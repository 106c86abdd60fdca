// Pins the controllers' run loop: changes during a pass are coalesced into exactly one more pass (never
// lost, never run concurrently), a burst within the debounce runs one pass, and stop waits and ends it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconcileLoop } from '../../control/reconcile-loop.js';

describe('ReconcileLoop', () => {
  // Fake time: each step below advances the clock past the debounce instead of sleeping and hoping.
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounces a burst, runs passes one at a time and coalesces changes made during a pass', async () => {
    let passes = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    let release: (() => void) | undefined;
    const loop = new ReconcileLoop(
      async () => {
        passes++;
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        if (passes === 1) await new Promise<void>((r) => (release = r));
        concurrent--;
      },
      { debounceMs: 5, onError: () => undefined },
    );
    for (let i = 0; i < 10; i++) loop.schedule();
    await vi.advanceTimersByTimeAsync(5);
    expect(release).toBeDefined();
    for (let i = 0; i < 5; i++) loop.schedule(0); // during the first pass
    await vi.advanceTimersByTimeAsync(20);
    expect(passes).toBe(1);
    release!();
    await loop.idle();
    expect(passes).toBe(2);
    expect(maxConcurrent).toBe(1);
    await loop.stop();
    loop.schedule(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(passes).toBe(2);
  });

  it('reports a failed pass and keeps running later ones', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const loop = new ReconcileLoop(
      () => (++n === 1 ? Promise.reject(new Error('boom')) : Promise.resolve()),
      { debounceMs: 1, onError: (e) => errors.push(e) },
    );
    loop.schedule();
    await vi.advanceTimersByTimeAsync(20);
    await loop.idle();
    loop.schedule();
    await vi.advanceTimersByTimeAsync(20);
    await loop.idle();
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    await loop.stop();
  });
});
