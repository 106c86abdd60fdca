// bench/l4-lab still builds and runs (one second per phase, one round, no idle-pod or profile phase; its
// targets are reported, not enforced here) and records every phase for no capture, weft and haproxy.
import { expect, it } from 'vitest';
import { describeWithPrograms, runBench } from '../../support/bench-run.js';
import { describeRootKube } from '../../support/kube-tools.js';

interface Phase { count?: number; errors?: number; mibPerS?: number }

describeRootKube('bench/l4-lab smoke', () => {
  describeWithPrograms(['haproxy'], 'with haproxy', () => {
    it('measures every phase through no capture, weft and haproxy', async () => {
      const r = await runBench(
        'l4-lab',
        ['--seconds', '1', '--warmup', '0', '--bulk-seconds', '1', '--rounds', '1', '--idle', '', '--no-profile', '--max-minutes', '3'],
        {},
        170_000,
      );
      const results = r.results as Record<string, Record<string, Phase>>;
      expect(Object.keys(results).sort()).toEqual(['haproxy', 'none', 'weft']);
      for (const [variant, phases] of Object.entries(results)) {
        expect(phases.bulk.mibPerS, variant).toBeGreaterThan(0);
        for (const name of ['keepalive', 'maxrps', 'newconn']) {
          expect(phases[name].count, `${variant} ${name}`).toBeGreaterThan(0);
          expect(phases[name].errors, `${variant} ${name}`).toBe(0);
        }
      }
    });
  });
});
