// Pins the real `weft` entry point (cli/main.ts, bundled: cli-bundle.ts) as a separate process against a
// real API server through a kubeconfig file: a command that succeeds exits 0 and did its write, a failed
// check exits 1 with ✖ lines and a fix, and an error from the cluster exits 1 with its code and hint.
// Without a cluster (help, usage, exit 2): cli-process.test.ts.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeServer } from '../../support/kube-server.js';
import { bundleCli, runWeft, type Bundle, type Run } from '../cli-bundle.js';

export function describeCliProcess(kube: () => KubeServer): void {
  describe('the weft process on a real API server', () => {
    let bundle: Bundle;
    let dir: string;
    beforeAll(async () => {
      bundle = await bundleCli('cli-kube');
      dir = await mkdtemp(join(tmpdir(), 'weft-t-cli-kube-'));
      await mkdir(join(dir, 'labs'));
    }, 60_000);
    afterAll(async () => {
      await bundle?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });
    const weft = (...args: string[]): Promise<Run> => runWeft(bundle, args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kube().kubeconfig, WEFT_LAB_ROOT: join(dir, 'labs') } });

    it('namespace enable labels the namespace through the kubeconfig, exit 0', async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      const r = await weft('namespace', 'enable', 'demo');
      expect(r.code, r.stderr).toBe(0);
      expect((await k.get('Namespace', undefined, 'demo'))?.metadata.labels?.['weft.dev/dataplane-mode']).toBe('ambient');
    });

    it('a failing check exits 1 with ✖ lines', async () => {
      const r = await weft('check');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^✖ control plane: no Deployment weft-control in weft-system$/m);
      expect(r.stdout).toMatch(/^ {4}fix: /m);
    });

    it('an error from the cluster exits 1 with code and hint', async () => {
      await kube().put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      const r = await weft('waypoint', 'status', '-n', 'demo', '--name', 'nope');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error ERR_WEFT_CLI_NOT_FOUND: waypoint \(Gateway\) demo\/nope not found\n {2}hint: /);
    });
  });
}
