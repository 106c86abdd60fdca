// bench/cni-add still builds and runs (three ADDs per chain in a real lab; the 15 ms target is reported,
// not enforced here) and records the chain with and without weft-cni and the agent's own ADD time.
import { expect, it } from 'vitest';
import { runBench } from '../../support/bench-run.js';
import { describeRootKube } from '../../support/kube-tools.js';

describeRootKube('bench/cni-add smoke', () => {
  it('times the CNI chain with and without weft-cni', async () => {
    const r = await runBench('cni-add', ['--iterations', '3'], {}, 170_000);
    expect(r.iterations).toBe(3);
    expect(r.chain).toEqual(['bridge', 'portmap', 'weft-cni']);
    for (const key of ['withoutWeftMs', 'withWeftMs', 'weftCniCallMs', 'weftCniVersionCallMs']) {
      expect((r[key] as { p50: number }).p50, key).toBeGreaterThan(0);
    }
    expect((r.agentAddMs as { samples: number }).samples).toBe(3);
    expect(typeof r.targetMet).toBe('boolean');
  });
});
