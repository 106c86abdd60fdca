// Pins the P2C/peak-EWMA balancer: a slow or failing endpoint is avoided at once (peak), pending
// connections count as load, it is trusted again only gradually (decay), and unknown endpoints start
// at the default latency.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTT_MS, PeakEwmaBalancer } from '../../node-agent/proxy/p2c.js';

const id = (s: string): string => s;

describe('node-agent p2c peak-EWMA', () => {
  it('returns the only candidate or none', () => {
    const b = new PeakEwmaBalancer();
    expect(b.pick([], id)).toBeUndefined();
    expect(b.pick(['a'], id)).toBe('a');
  });

  it('prefers the faster endpoint, and a slow sample counts at once', () => {
    let t = 0;
    const b = new PeakEwmaBalancer(() => t);
    const done = b.start('slow');
    t += 500;
    done(true);
    expect(b.load('slow')).toBe(500);
    expect(b.load('new')).toBe(DEFAULT_RTT_MS);
    const picks = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const p = b.pick(['slow', 'fast'], id)!;
      picks.set(p, (picks.get(p) ?? 0) + 1);
    }
    expect(picks.get('fast')).toBe(200);
  });

  it('counts pending connections as load', () => {
    const b = new PeakEwmaBalancer(() => 0);
    b.start('busy');
    b.start('busy');
    expect(b.load('busy')).toBe(DEFAULT_RTT_MS * 3);
    expect(b.pick(['busy', 'idle'], id, () => 0)).toBe('idle');
  });

  it('decays a peak gradually when faster samples arrive, and penalises failures', () => {
    let t = 0;
    const b = new PeakEwmaBalancer(() => t);
    b.start('e')(true);
    let d = b.start('e');
    t += 1000;
    d(true); // peak 1000 ms
    t += 5000; // 5 s later a 1 ms sample: ewma ≈ 1000·e^-0.5 + 1·(1−e^-0.5) ≈ 607
    d = b.start('e');
    t += 1;
    d(true);
    expect(b.load('e')).toBeGreaterThan(500);
    expect(b.load('e')).toBeLessThan(700);
    b.start('bad')(false);
    expect(b.load('bad')).toBeGreaterThanOrEqual(1000);
  });

  it('forgets endpoints that are gone', () => {
    let t = 0;
    const b = new PeakEwmaBalancer(() => t);
    const d = b.start('gone');
    t += 200;
    d(true);
    b.retain(new Set(['other']));
    expect(b.load('gone')).toBe(DEFAULT_RTT_MS);
  });
});
