// bench/hbone-loopback still builds and runs (one second per phase, no warm-up; no target enforced) and
// writes every phase for direct, weft and haproxy with the run record.
import { expect, it } from 'vitest';
import { describeWithPrograms, runBench } from '../../support/bench-run.js';

interface Phase { mode: string; count?: number; errors?: number; bytes?: number }

describeWithPrograms(['haproxy'], 'bench/hbone-loopback smoke', () => {
  it('measures direct, weft and haproxy in every phase', async () => {
    const r = await runBench('hbone-loopback', ['--seconds', '1', '--warmup', '0']);
    const results = r.results as Record<string, Record<string, Phase>>;
    expect(Object.keys(results).sort()).toEqual(['direct', 'haproxy', 'weft']);
    for (const [variant, phases] of Object.entries(results)) {
      expect(Object.keys(phases).sort(), variant).toEqual(['bulk', 'keepalive1000', 'maxrps', 'newconn500']);
      expect(phases.bulk.bytes, variant).toBeGreaterThan(0);
      for (const name of ['keepalive1000', 'maxrps', 'newconn500']) {
        expect(phases[name].count, `${variant} ${name}`).toBeGreaterThan(0);
        expect(phases[name].errors, `${variant} ${name}`).toBe(0);
      }
    }
  });
});
