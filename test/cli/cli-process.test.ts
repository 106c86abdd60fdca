// Pins: the real `weft` entry point (cli/main.ts, bundled with esbuild so that the test needs no prior
// build) — help on every command, the documented exit codes (0 ok, 1 failed check/command, 2 usage), and a
// command end to end as a separate process against the Kubernetes API double through a kubeconfig file.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('weft process', () => {
  let bundle: string;
  let dir: string;
  let api: KubeApiServerDouble;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Bare imports stay external and resolve from node_modules, so the bundle lives under it.
    const out = join(ROOT, 'node_modules', '.cache', `weft-t-cli-${process.pid}`);
    bundle = join(out, 'main.mjs');
    await build({ entryPoints: [join(ROOT, 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'error' });
    dir = await mkdtemp(join(tmpdir(), 'weft-t-cli-proc-'));
    api = await KubeApiServerDouble.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster: { server: "${api.url}", insecure-skip-tls-verify: true }\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: double\n  context: { cluster: double, user: u }\ncurrent-context: double\n`,
    );
    await mkdir(join(dir, 'labs'));
    env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, WEFT_LAB_ROOT: join(dir, 'labs') };
  }, 180_000);

  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
    await rm(join(bundle, '..'), { recursive: true, force: true });
  });

  function weft(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [bundle, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('every command documents itself with --help and exits 0', async () => {
    const cmds = [['install'], ['check'], ['namespace'], ['waypoint', 'apply'], ['waypoint', 'status'], ['version']];
    const runs = await Promise.all(cmds.map((cmd) => weft(...cmd, '--help')));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`weft ${cmds[i].join(' ')}`);
      expect(r.stdout).toContain('--help');
    });
  }, 180_000);

  it('namespace enable labels the namespace through the kubeconfig, exit 0', async () => {
    const r = await weft('namespace', 'enable', 'demo');
    expect(r.code, r.stderr).toBe(0);
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels).toEqual({ 'weft.dev/dataplane-mode': 'ambient' });
  }, 150_000);

  it('a failing check exits 1 with ✖ lines', async () => {
    const r = await weft('check');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✖ control plane: no Deployment weft-control in weft-system$/m);
    expect(r.stdout).toMatch(/^ {4}fix: /m);
  }, 150_000);

  it('bad usage exits 2 and says how to get help', async () => {
    const r = await weft('namespace', 'frobnicate', 'demo');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--help');
  }, 150_000);

  it('an error from the cluster exits 1 with code and hint', async () => {
    const r = await weft('waypoint', 'status', '-n', 'demo', '--name', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_WEFT_CLI_NOT_FOUND: waypoint \(Gateway\) demo\/nope not found\n {2}hint: /);
  }, 150_000);

  it('version -o json prints the client version', async () => {
    const r = await weft('version', '--client', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { client: { version: string } }).client.version).toMatch(/^\d+\.\d+\.\d+/);
  }, 150_000);
});
