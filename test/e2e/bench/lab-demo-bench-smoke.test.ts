// bench/lab-demo still builds and runs (one `weft lab up --demo` and one `--no-mesh`, each with its
// `down`; the 30 s target is reported, not enforced here) and records the Kubernetes components' start
// times.
import { expect, it } from 'vitest';
import { runBench } from '../../support/bench-run.js';
import { describeRootKube } from '../../support/kube-tools.js';

describeRootKube('bench/lab-demo smoke', () => {
  it('times weft lab up --demo against the same cluster without weft', async () => {
    const r = await runBench('lab-demo', ['--runs', '1'], {}, 400_000);
    expect(r.runs).toBe(1);
    expect((r.demoUpMs as { p50: number }).p50).toBeGreaterThan(0);
    expect((r.plainUpMs as { p50: number }).p50).toBeGreaterThan(0);
    expect(Object.keys(r.kubeComponentStartMsP50 as object)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']));
    expect(typeof r.targetMet).toBe('boolean');
  }, 420_000);
});
