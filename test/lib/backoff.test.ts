// Pins the retry pacing every reconnect loop relies on: delays grow, stay within [ceiling/2, ceiling],
// are capped, and a bounded loop reports exhaustion.
import { describe, expect, it } from 'vitest';
import { Backoff, jitter } from '../../lib/backoff.js';

describe('backoff', () => {
  it('grows by the factor, stays within [ceiling/2, ceiling] and caps at maxMs', () => {
    const lo = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const hi = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()]).toEqual([50, 100, 200, 400, 500]);
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([100, 200, 400, 800, 1000]);
  });

  it('is exhausted after maxAttempts and starts over on reset', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, maxAttempts: 2 });
    b.next();
    expect(b.exhausted).toBe(false);
    b.next();
    expect(b.exhausted).toBe(true);
    b.reset();
    expect(b.exhausted).toBe(false);
    expect(b.attempts).toBe(0);
  });

  it('jitter stays within ±fraction', () => {
    expect(jitter(1000, 0.1, () => 0)).toBe(900);
    expect(jitter(1000, 0.1, () => 1)).toBe(1100);
  });
});
