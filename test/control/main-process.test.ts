// Pins weft-control as a process (dist/control/main.js, built by `npm test`): --help lists the
// flags; with a directory source it becomes ready on /healthz/ready, and SIGTERM shuts it down cleanly
// (exit 0) instead of hanging on open watch streams; a bad --source is refused with exit code 1/2.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';

const main = path.resolve('dist/control/main.js');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'weft-tproc-'));
  await mkdir(path.join(root, 'cluster'), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(args: string[]): { done: Promise<{ code: number | null; out: string }>; child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out }))) };
}

describe('weft-control process', () => {
  it('is built', () => {
    expect(existsSync(main), 'run `npx tsc -p tsconfig.build.json` (npm test builds first)').toBe(true);
  });

  it('--help lists its flags', async () => {
    const { code, out } = await run(['--help']).done;
    expect(code).toBe(0);
    for (const flag of ['--source', '--listen', '--ca-dir', '--token-public-key', '--trust-domain', '--metrics-address', '--health-address', '--namespace']) expect(out).toContain(flag);
  }, 60_000);

  it('refuses a malformed --source', async () => {
    const { code, out } = await run(['--source', 'nonsense', '--health-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0']).done;
    expect(code).toBe(2);
    expect(out).toMatch(/--source must be dir:<clusterDir> or kube/);
  }, 60_000);

  it('becomes ready and exits 0 on SIGTERM', async () => {
    const health = await freePort();
    const { child, done } = run([
      '--source', `dir:${path.join(root, 'cluster')}`,
      '--ca-dir', path.join(root, 'ca'),
      '--listen', '127.0.0.1:0',
      '--metrics-address', '127.0.0.1:0',
      '--health-address', `127.0.0.1:${health}`,
    ]);
    try {
      await eventually(() => fetch(`http://127.0.0.1:${health}/healthz/ready`).then((r) => r.status === 200, () => false), 60_000, 'the control plane ready', 200);
      child.kill('SIGTERM');
      const { code, out } = await done;
      expect(code).toBe(0);
      expect(out).toContain('shutting down');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
