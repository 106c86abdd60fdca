// bench/control-scale still builds and runs at a small scale (200 pods, 5 watchers, 5 changes, 1 s of
// Certify; no target enforced) and records push latency, memory and signing rate with the run record,
// with the directory source and with `--source kube` against a real etcd and kube-apiserver.
import { expect, it, describe } from 'vitest';
import { runBench } from '../../support/bench-run.js';
import { describeKubeTools } from '../../support/kube-tools.js';

const SMALL = { WEFT_BENCH_PODS: '200', WEFT_BENCH_SERVICES: '20', WEFT_BENCH_WATCHERS: '5', WEFT_BENCH_CHANGES: '5', WEFT_BENCH_CERTIFY_S: '1' };

describe('bench/control-scale smoke', () => {
  it('pushes every change to every watcher and signs certificates', async () => {
    const r = await runBench('control-scale', [], SMALL);
    expect(r.pods).toBe(200);
    expect(r.lostChanges).toBe(0);
    expect((r.pushEndToEndMs as { p99: number }).p99).toBeGreaterThan(0);
    expect((r.rssMb as { peak: number }).peak).toBeGreaterThan(0);
    // Node's own binary alone keeps tens of MB of file-backed pages resident.
    expect((r.rssBreakdownMbSteady as { anon: number; file: number }).file).toBeGreaterThan(0);
    expect((r.rssBreakdownMbSteady as { anon: number; file: number }).anon).toBeGreaterThan(0);
    expect(r.certificatesPerSecond).toBeGreaterThan(0);
    expect(r.certifyFailures).toBe(0);
  });
});

describeKubeTools('bench/control-scale --source kube smoke', () => {
  it('pushes every pod patch to every watcher and signs certificates for TokenReview\'d agents', async () => {
    const r = await runBench('control-scale', ['--source', 'kube'], SMALL, 240_000);
    expect(r.source).toBe('kube');
    expect(r.pods).toBe(200);
    expect(r.lostChanges).toBe(0);
    expect(r.populateMs).toBeGreaterThan(0);
    expect(r.certificatesPerSecond).toBeGreaterThan(0);
    expect(r.certifyFailures).toBe(0);
  }, 300_000);
});
