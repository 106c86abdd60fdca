// bench/waypoint still builds and runs (a second of each phase, one round; no target enforced) and writes
// numbers for both contenders with the run record.
import { expect, it } from 'vitest';
import { describeWithPrograms, runBench } from '../../support/bench-run.js';

interface Contender { rps: number; cpuUsPerRequest: number; p99Ms: number; fixedRequests: number; non2xx: number; upstreamConnections: number; upstreamReuse: number }

describeWithPrograms(['haproxy', 'h2load'], 'bench/waypoint smoke', () => {
  it('races the waypoint against haproxy and records both', async () => {
    const r = await runBench('waypoint', [], { WEFT_BENCH_SATURATION_S: '1', WEFT_BENCH_FIXED_S: '1', WEFT_BENCH_ROUNDS: '1' });
    const results = r.results as Record<'haproxy' | 'waypoint', Contender>;
    for (const c of [results.haproxy, results.waypoint]) {
      expect(c.rps).toBeGreaterThan(0);
      expect(c.cpuUsPerRequest).toBeGreaterThan(0);
      expect(c.p99Ms).toBeGreaterThan(0);
      expect(c.fixedRequests).toBeGreaterThan(0);
      expect(c.non2xx).toBe(0);
      // Keep-alive upstream: far fewer backend connections than requests.
      expect(c.upstreamConnections).toBeGreaterThan(0);
      expect(c.upstreamReuse).toBeGreaterThan(0.9);
    }
    expect((r.ratios as { rps: number }).rps).toBeGreaterThan(0);
  });
});
