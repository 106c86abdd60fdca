// Failure: `weft version --client | true` crashed with an unhandled 'error' event (write EPIPE, a stack
// trace on stderr, exit 1) because the reader closed the pipe before weft wrote. Pins: a closed stdout
// ends weft quietly with exit 0.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleCli, type Bundle } from './cli-bundle.js';

let bundle: Bundle;
beforeAll(async () => {
  bundle = await bundleCli('epipe');
}, 120_000);
afterAll(() => bundle.cleanup());

/** Runs weft with a stdout pipe whose reading end is closed before weft can write (as `| true` does). */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle.path, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    child.stdout.destroy(); // weft takes far longer to start than this takes
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

it.each([
  [['version', '--client']],
  [['version', '--client', '-o', 'json']],
  [['--help']],
])('weft %j into a closed pipe exits 0 without a stack trace', async (args) => {
  const r = await runIntoClosedPipe(args);
  expect(r.stderr).toBe('');
  expect(r.signal).toBeNull();
  expect(r.code).toBe(0);
}, 60_000);
