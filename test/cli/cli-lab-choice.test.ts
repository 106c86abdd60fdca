// Pins issue 12 item 8: a command that targets a lab uses the lab --lab names, or the one running lab
// (saying so on stderr); with several running and none named it refuses (exit 2,
// ERR_WEFT_CLI_LAB_AMBIGUOUS) and lists them with the flag to pick one; with none, what it did before.
// The failure: `weft version` silently reported on whichever lab ran (and with several, said "unknown"
// and exited 0); lab subcommands always meant the lab named `lab`, whichever one was running.
// `weft stat` and `weft edges` ask --prometheus, else the chosen lab's Prometheus; with neither,
// ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND says what to pass, and a lab without a running one is named.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeRoot } from '../support/root.js';
import { bundleCli, runWeft, type Bundle } from './cli-bundle.js';

let bundle: Bundle;
let dir: string;
let labs: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  bundle = await bundleCli('lab-choice');
  dir = await mkdtemp(join(tmpdir(), 'weft-t-lab-choice-'));
}, 180_000);
afterAll(async () => {
  await bundle?.cleanup();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  labs = await mkdtemp(join(dir, 'labs-'));
  // No kubeconfig: HOME has none and KUBECONFIG is unset.
  env = { PATH: process.env.PATH, HOME: join(dir, 'home'), WEFT_LAB_ROOT: labs };
});

/**
 * A lab as `weft lab up --no-mesh` leaves it: its lab.json (what makes it a running lab) records an API
 * server (a kubeconfig nothing answers; no command here needs an answer) and no Prometheus.
 */
async function addLab(name: string): Promise<void> {
  const root = join(labs, name);
  await mkdir(root, { recursive: true });
  const kubeconfig = join(root, 'admin.kubeconfig');
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:1' } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  const kube = { server: 'https://172.30.0.254:6443', hostPort: 1, kubeconfig };
  await writeFile(join(root, 'lab.json'), JSON.stringify({ name, nodes: [], createdAt: new Date().toISOString(), distDir: '/nonexistent', agent: false, control: false, kube }));
}
const addLabWithoutPrometheus = addLab;

describe('cluster commands choose a lab', () => {
  it('weft version: the one running lab, said on stderr', async () => {
    await addLab('a');
    const r = await runWeft(bundle, ['version'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lab a runs this checkout');
    expect(r.stderr).toContain('using lab a, the only one running');
  });

  it.each([['version'], ['check'], ['version', '-o', 'json'], ['stat', 'deployment'], ['edges', '-o', 'json']])('weft %s with several labs refuses with exit 2 and lists them', async (...args) => {
    await addLab('a');
    await addLab('b');
    const r = await runWeft(bundle, args, { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERR_WEFT_CLI_LAB_AMBIGUOUS');
    expect(r.stderr).toContain('several labs are running (a, b)');
    expect(r.stderr).toContain('--lab a, --lab b');
    expect(r.stderr).toContain('weft check --lab <name>');
    expect(r.stdout).toBe('');
  });

  it('--lab names one of several', async () => {
    await addLab('a');
    await addLab('b');
    const r = await runWeft(bundle, ['version', '--lab', 'b'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lab b runs this checkout');
  });

  it('no lab and no kubeconfig: as before (version unknown, exit 0; check fails with ERR_WEFT_CLI_NO_CLUSTER)', async () => {
    const v = await runWeft(bundle, ['version'], { env });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('control plane: unknown');
    const c = await runWeft(bundle, ['check'], { env });
    expect(c.stderr).toContain('ERR_WEFT_CLI_NO_CLUSTER');
  });
});

describeRoot('lab subcommands choose a lab', () => {
  it('the one running lab without --lab; several refused (exit 2); none: the default lab name', async () => {
    const status = (...extra: string[]) => runWeft(bundle, ['lab', 'kubeconfig', '--state-root', labs, ...extra], { env });
    // No lab at all: the refusal names the lab the command chose.
    const none = await status();
    expect(none.stderr).toContain('ERR_WEFT_LAB_NOT_FOUND');
    expect(none.stderr).toContain(join(labs, 'lab'));
    // Its API server's forward runs in none of these labs: the refusal names the lab the command chose.
    await addLab('a');
    const one = await status();
    expect(one.stderr).toContain('ERR_WEFT_LAB_KUBE_NOT_RUNNING: lab a ');
    await addLab('b');
    const two = await status();
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('ERR_WEFT_CLI_LAB_AMBIGUOUS');
    expect(two.stderr).toContain('--lab a, --lab b');
    const named = await status('--lab', 'b');
    expect(named.stderr).toContain('ERR_WEFT_LAB_KUBE_NOT_RUNNING: lab b ');
    expect(named.stderr).not.toContain('AMBIGUOUS');
  });
});

describe('weft stat / weft edges choose their Prometheus', () => {
  it('no lab and no --prometheus: ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND, exit 1, saying to pass --prometheus', async () => {
    const r = await runWeft(bundle, ['stat', 'deployment'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND: no Prometheus to ask: no --prometheus given and no lab running under ${labs}`);
    expect(r.stderr).toContain('--prometheus http://127.0.0.1:9090');
    expect(r.stdout).toBe('');
  });

  it('the one running lab is used and said on stderr; one without Prometheus is refused by name', async () => {
    await addLabWithoutPrometheus('a');
    const r = await runWeft(bundle, ['edges'], { env });
    expect(r.stderr).toContain('using the Prometheus of lab a, the only one running');
    expect(r.stderr).toContain('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING: lab a has no running Prometheus (none recorded in lab.json)');
    expect(r.code).toBe(1);
  });

  it('--lab names one of several; a lab that does not exist is ERR_WEFT_LAB_NOT_FOUND', async () => {
    await addLabWithoutPrometheus('a');
    await addLabWithoutPrometheus('b');
    const named = await runWeft(bundle, ['stat', 'ns', '--lab', 'b'], { env });
    expect(named.stderr).toContain('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING: lab b has no running Prometheus');
    expect(named.stderr).not.toContain('AMBIGUOUS');
    const missing = await runWeft(bundle, ['stat', 'ns', '--lab', 'zz'], { env });
    expect(missing.stderr).toContain('ERR_WEFT_LAB_NOT_FOUND');
  });

  it('--prometheus must be an http(s) base URL and excludes --lab (usage errors, exit 2)', async () => {
    for (const args of [['--prometheus', 'localhost:9090'], ['--prometheus', 'ftp://x/'], ['--prometheus', 'http://x/?q=1'], ['--prometheus', 'http://127.0.0.1:9090', '--lab', 'a']]) {
      const r = await runWeft(bundle, ['stat', 'deployment', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('ERR_WEFT_CLI_USAGE');
    }
  });
});
