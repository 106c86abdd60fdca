// Pins the one P2C peak-EWMA balancer (Linkerd's semantics: load = rtt × (pending + 1), new endpoints
// at 30 ms, decay τ = 10 s, a load reading is a zero-latency sample), with the clock and randomness
// injected. The two copies it replaces decayed differently, each wrongly: the node agent's estimate
// never decayed while no sample came, so with two endpoints one slow connect shunned an endpoint for
// good (P2C always preferred the other, so no new sample could ever clear it); the waypoint's decayed
// twice when a faster sample came (≈368 ms instead of ≈607 ms below), trusting a slow endpoint too soon.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PEAK_EWMA, PeakEwma, pickP2C } from '../../../lib/balance/index.js';

const loadOf = (e: PeakEwma, now: number): number => e.load(now);
/** A seeded generator (LCG), so the traffic test draws the same pairs on every run. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

describe('peak-EWMA estimate', () => {
  it('starts at 30 ms and counts pending requests as load', () => {
    const e = new PeakEwma(0);
    expect(DEFAULT_PEAK_EWMA).toEqual({ initialRttMs: 30, decayMs: 10_000 });
    expect(e.load(0)).toBe(30);
    e.pending = 2;
    expect(e.load(0)).toBe(90);
  });

  it('takes a slower sample at once (peak)', () => {
    const e = new PeakEwma(0);
    e.observe(500, 1);
    expect(e.load(1)).toBe(500);
  });

  it('blends a faster sample by the time since the last update, once', () => {
    const e = new PeakEwma(0);
    e.observe(1000, 1_000);
    e.observe(1, 6_000); // 1000·e^−0.5 + 1·(1 − e^−0.5)
    expect(e.rttMs).toBeCloseTo(1000 * Math.exp(-0.5) + (1 - Math.exp(-0.5)), 6);
    expect(e.rttMs).toBeGreaterThan(600);
  });

  it('decays toward 0 while nobody measures it, whether or not the load is read in between', () => {
    const read = new PeakEwma(0);
    const unread = new PeakEwma(0);
    read.observe(500, 0);
    unread.observe(500, 0);
    for (let t = 1_000; t < 10_000; t += 1_000) read.load(t);
    expect(read.load(10_000)).toBeCloseTo(500 * Math.exp(-1), 6);
    expect(unread.load(10_000)).toBeCloseTo(500 * Math.exp(-1), 6);
    expect(read.load(10_000)).toBeCloseTo(500 * Math.exp(-1), 6); // same instant, same value
  });

  it('never moves its clock backwards', () => {
    const e = new PeakEwma(1_000);
    e.observe(500, 1_000);
    expect(e.load(500)).toBe(500);
    expect(e.load(11_000)).toBeCloseTo(500 * Math.exp(-1), 6);
  });
});

describe('P2C', () => {
  it('returns the only candidate or none, and compares two distinct ones', () => {
    expect(pickP2C([], loadOf, 0, Math.random)).toBeUndefined();
    const only = new PeakEwma(0);
    expect(pickP2C([only], loadOf, 0, Math.random)).toBe(only);
    const [a, b] = [new PeakEwma(0), new PeakEwma(0)];
    b.pending = 1;
    // random() = 0 draws index 0 twice; the second draw skips it, so a meets b, and the lower load wins.
    expect(pickP2C([a, b], loadOf, 0, () => 0)).toBe(a);
    expect(pickP2C([b, a], loadOf, 0, () => 0)).toBe(a);
  });

  it('sends traffic back to an endpoint that was slow once, after it decays below the others', () => {
    let t = 0;
    const slow = new PeakEwma(t);
    const fast = new PeakEwma(t);
    slow.observe(500, t);
    const picks = { slow: 0, fast: 0 };
    const random = seeded(7);
    // One connection every 100 ms for 60 s; the fast endpoint answers in 20 ms, the slow one now too.
    for (; t < 60_000; t += 100) {
      const e = pickP2C([slow, fast], loadOf, t, random)!;
      e.observe(20, t + 20);
      if (e === slow) picks.slow++;
      else picks.fast++;
    }
    expect(picks.fast).toBeGreaterThan(picks.slow);
    expect(picks.slow).toBeGreaterThan(0);
    // Both now measured at 20 ms: the slow one's peak has gone.
    expect(slow.load(t)).toBeLessThan(30);
  });
});
