// Failure: yargs' usage errors printed `error: Unknown argument: bogus` with no ERR_WEFT_ code; an
// invalid waypoint name against a lab wrote the Gateway file and then failed as ERR_WEFT_CORE_INTERNAL
// (exit 1); a non-root write into a lab was a raw `EACCES` (exit 1; now: reading its kubeconfig); lab commands refused --lab, the flag
// every other command uses to pick a lab. Pins: every error line carries an ERR_WEFT_ code and a hint,
// usage and privilege errors exit 2, --lab works everywhere and --name still works (deprecated, warned).
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, runWeft, type Bundle, type Run } from './cli-bundle.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const ERROR_LINE = /^error (ERR_WEFT_[A-Z_]+): [\s\S]+?\n {2}hint: .+/m;

describe('weft usage and privilege errors', () => {
  let bundle: Bundle;
  let dir: string;
  let kubeconfig: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    bundle = await bundleCli('usage');
    dir = await mkdtemp(join(tmpdir(), 'weft-t-cli-usage-'));
    const lab = join(dir, 'labs', 't');
    await mkdir(lab, { recursive: true });
    // A lab as `up` leaves it: its lab.json readable by everyone, its admin kubeconfig by root alone.
    kubeconfig = join(lab, 'admin.kubeconfig');
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n', { mode: 0o600 });
    await writeFile(join(lab, 'lab.json'), JSON.stringify({ name: 't', nodes: [], createdAt: '', distDir: '/nonexistent', agent: false, control: false, kube: { server: 'https://172.30.0.254:6443', hostPort: 1, kubeconfig } }));
    for (const d of [dir, join(dir, 'labs'), lab]) await chmod(d, 0o755);
    env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'no-kubeconfig'), WEFT_LAB_ROOT: join(dir, 'labs') };
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await bundle.cleanup();
  });

  const weft = (...args: string[]): Promise<Run> => runWeft(bundle, args, { env });
  /** As a user who may not write the lab: nobody when the tests run as root, else the current user. */
  const weftUnprivileged = (...args: string[]): Promise<Run> =>
    runWeft(bundle, args, { env, ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}) });

  function expectError(r: Run, code: string, exit: number): void {
    expect(r.stderr, r.stderr).toMatch(ERROR_LINE);
    expect(ERROR_LINE.exec(r.stderr)?.[1]).toBe(code);
    expect(r.code, r.stderr).toBe(exit);
  }

  it.each([
    ['an unknown flag', ['check', '--bogus']],
    ['an unknown command', ['frobnicate']],
    ['no command', []],
    ['a value outside the choices', ['namespace', 'frobnicate', 'demo']],
    ['a missing positional', ['namespace', 'enable']],
    ['a lab command without subcommand', ['lab']],
  ])('%s is ERR_WEFT_CLI_USAGE with a hint, exit 2', async (_what, args) => {
    expectError(await weft(...args), 'ERR_WEFT_CLI_USAGE', 2);
  });

  it('an invalid waypoint name is a usage error naming the rule, before the lab is asked anything', async () => {
    const r = await weft('waypoint', 'apply', '--lab', 't', '--name', 'Bad_Name');
    expectError(r, 'ERR_WEFT_CLI_USAGE', 2);
    expect(r.stderr).toContain('--name "Bad_Name" is not a valid waypoint name');
  });

  it('an invalid namespace name is a usage error', async () => {
    expectError(await weft('namespace', 'enable', 'Demo_NS', '--lab', 't'), 'ERR_WEFT_CLI_USAGE', 2);
    expectError(await weft('waypoint', 'status', '-n', 'a/b', '--lab', 't'), 'ERR_WEFT_CLI_USAGE', 2);
  });

  it('an invalid lab name is a usage error with the lab name rule, on cluster and lab commands alike', async () => {
    for (const r of [await weft('check', '--lab', 'Bad-Lab'), await weft('lab', 'status', '--lab', 'Bad-Lab')]) {
      expectError(r, 'ERR_WEFT_CLI_USAGE', 2);
      expect(r.stderr).toContain('lab name Bad-Lab is not valid');
    }
  });

  it('a command on a root-owned lab as another user is ERR_WEFT_CLI_PERMISSION_DENIED naming its kubeconfig, exit 2', async () => {
    if (!isRoot) await chmod(kubeconfig, 0o000); // root reads whatever the mode; others are denied by it
    const r = await weftUnprivileged('waypoint', 'apply', '--lab', 't', '-n', 'default');
    if (!isRoot) await chmod(kubeconfig, 0o600);
    expectError(r, 'ERR_WEFT_CLI_PERMISSION_DENIED', 2);
    expect(r.stderr).toContain(kubeconfig);
    expect(r.stderr).not.toContain('EACCES');
  });

  it('lab commands take --lab; --name still works with a deprecation warning', async () => {
    const withLab = await weftUnprivileged('lab', 'status', '--lab', 't');
    const withName = await weftUnprivileged('lab', 'status', '--name', 't');
    for (const r of [withLab, withName]) expectError(r, 'ERR_WEFT_NOT_ROOT', 2); // parsed, then refused for the uid
    expect(withLab.stderr).not.toContain('deprecated');
    expect(withName.stderr).toContain('--name is deprecated');
  });

  it('a lab that does not run: the hint names the lab in a command that runs as printed', async () => {
    const r = await weft('namespace', 'enable', 'demo', '--lab', 'nope');
    expectError(r, 'ERR_WEFT_LAB_NOT_FOUND', 1);
    expect(r.stderr).toContain('`sudo weft lab up --lab nope`');
    expect(r.stderr).not.toMatch(/\{\w+\}/);
  });
});
