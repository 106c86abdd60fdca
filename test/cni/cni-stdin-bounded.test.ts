// Pins that weft-cni never hangs on its stdin: a runtime that opens the pipe and never closes it (with
// nothing, or with half a config written) gets the CNI I/O error (code 5, ERR_WEFT_CNI_STDIN_IO) within
// the stdin bound, and a stdin larger than the cap is refused the same way without reading it all. It
// used to read fd 0 with one blocking readFileSync, which froze the event loop: neither the 5 s stdin
// bound nor the process's hard limit could fire, so the pod's ADD hung until the runtime killed it.
// WEFT_CNI_STDIN_TIMEOUT_MS / WEFT_CNI_STDIN_MAX_BYTES shrink the bounds so this runs in well under 2 s.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './agent-double.js';
import { PLUGIN_BIN, pluginProcessEnv, podEnv, SANITIZER_REPORT, weftConfig, type CniErrorJson } from './run-plugin.js';

interface Ended {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

type StdinKind = 'pipe' | 'socketpair';

/**
 * Starts the plugin, writes `written` to its stdin and keeps stdin open until the plugin exits. `pipe` is
 * what containerd and CRI-O hand a plugin (Go's os/exec); `socketpair` is what a Node parent (the lab's
 * kubelet) hands it.
 */
function runWithOpenStdin(kind: StdinKind, env: Record<string, string>, written: string | Buffer): Promise<Ended> {
  const started = performance.now();
  let writer: number | undefined;
  let stdin: 'pipe' | number = 'pipe';
  if (kind === 'pipe') {
    const dir = tempDir('stdin');
    const fifo = join(dir, 'stdin');
    execFileSync('mkfifo', [fifo]);
    writer = openSync(fifo, constants.O_RDWR); // opens without a reader (Linux); keeps the pipe open
    stdin = openSync(fifo, constants.O_RDONLY);
    rmSync(dir, { recursive: true });
  }
  const child = spawn(PLUGIN_BIN, [], { env: pluginProcessEnv(env), stdio: [stdin, 'pipe', 'pipe'] });
  if (typeof stdin === 'number') closeSync(stdin);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (writer !== undefined) {
    // Non-blocking writes would need a loop; the pipe buffer (64 KiB) takes what these tests write at once.
    if (written.length > 0) writeSync(writer, Buffer.from(written));
  } else {
    child.stdin!.on('error', () => {}); // the plugin exits without reading everything: EPIPE is expected
    if (written.length > 0) child.stdin!.write(written);
  }
  // A hang is a failure of the test, not a hung test run.
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(killer);
      if (writer !== undefined) closeSync(writer);
      else child.stdin!.destroy();
      resolve({ exitCode, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const BOUND_MS = 300;

describe.each<[StdinKind]>([['pipe'], ['socketpair']])('weft-cni bounds its stdin read (stdin a %s)', (kind) => {
  it.each([
    ['nothing written', ''],
    ['half a config written', JSON.stringify(weftConfig()).slice(0, 40)],
  ])('ADD with a stdin never closed (%s) fails with CNI code 5 within the bound', async (_label, written) => {
    const run = await runWithOpenStdin(kind, { ...podEnv('ADD'), WEFT_CNI_STDIN_TIMEOUT_MS: String(BOUND_MS) }, written);
    expect(run.signal, 'the plugin hung and was killed').toBeNull();
    expect(run.stderr).not.toMatch(SANITIZER_REPORT);
    expect(run.exitCode).toBe(1);
    const err = JSON.parse(run.stdout) as CniErrorJson;
    expect(err.code).toBe(5);
    expect(err.msg).toContain(`not closed within ${BOUND_MS} ms`);
    expect(err.details).toContain('ERR_WEFT_CNI_STDIN_IO');
    expect(run.ms).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(run.ms).toBeLessThan(1_900);
  });

  it('a stdin larger than the cap is refused with CNI code 5 before it ends', async () => {
    const cap = 16 * 1024;
    const run = await runWithOpenStdin(kind, { ...podEnv('ADD'), WEFT_CNI_STDIN_TIMEOUT_MS: '5000', WEFT_CNI_STDIN_MAX_BYTES: String(cap) }, Buffer.alloc(cap + 4096, 0x20));
    expect(run.signal).toBeNull();
    expect(run.stderr).not.toMatch(SANITIZER_REPORT);
    expect(run.exitCode).toBe(1);
    const err = JSON.parse(run.stdout) as CniErrorJson;
    expect(err.code).toBe(5);
    expect(err.msg).toContain(`larger than ${cap} bytes`);
    expect(run.ms).toBeLessThan(1_900); // refused at the cap, not at the 5 s bound
  });
});

it('a malformed stdin bound is refused as an invalid environment (code 4)', async () => {
  const run = await runWithOpenStdin('socketpair', { ...podEnv('ADD'), WEFT_CNI_STDIN_TIMEOUT_MS: 'soon' }, '');
  expect(run.exitCode).toBe(1);
  const err = JSON.parse(run.stdout) as CniErrorJson;
  expect(err.code).toBe(4);
  expect(err.msg).toContain('WEFT_CNI_STDIN_TIMEOUT_MS');
});
