// Pins: the real `weft` entry point (cli/main.ts, bundled with esbuild: cli-bundle.ts, so that the test
// needs no prior build) — help on every command and the documented exit codes without a cluster (0 ok,
// 2 usage). Commands end to end against a real API server through a kubeconfig file: cli/on-kube/process.ts,
// run by test/kube-api-server.test.ts.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, runWeft, type Bundle, type Run } from './cli-bundle.js';

describe('weft process', () => {
  let bundle: Bundle;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    bundle = await bundleCli('cli');
    dir = await mkdtemp(join(tmpdir(), 'weft-t-cli-proc-'));
    await mkdir(join(dir, 'labs'));
    env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'no-kubeconfig'), WEFT_LAB_ROOT: join(dir, 'labs') };
  }, 180_000);

  afterAll(async () => {
    await bundle?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const weft = (...args: string[]): Promise<Run> => runWeft(bundle, args, { env });

  it('every command documents itself with --help and exits 0', async () => {
    const cmds = [['install'], ['check'], ['namespace'], ['waypoint', 'apply'], ['waypoint', 'status'], ['version']];
    const runs = await Promise.all(cmds.map((cmd) => weft(...cmd, '--help')));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`weft ${cmds[i].join(' ')}`);
      expect(r.stdout).toContain('--help');
    });
  }, 180_000);

  it('bad usage exits 2 and says how to get help', async () => {
    const r = await weft('namespace', 'frobnicate', 'demo');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--help');
  }, 150_000);

  it('version -o json prints the client version', async () => {
    const r = await weft('version', '--client', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { client: { version: string } }).client.version).toMatch(/^\d+\.\d+\.\d+/);
  }, 150_000);
});
