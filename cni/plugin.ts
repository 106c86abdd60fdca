// weft-cni: the chained CNI plugin process. Runs as `node dist/cni/plugin.js` or as the single executable
// `weft-cni` that scripts/build-cni.mjs builds; all behaviour lives in plugin/main.ts, this file only does
// process I/O. Keep imports minimal: startup time is added to every pod's creation.
//
// Measured on the lab VMs (Node 20, CPU profile of a VERSION run): touching `process.stdout`,
// `process.stderr` or `node:tty` on a pipe loads `net` + streams + tty (~10 ms of a ~80 ms start), so the
// plugin reads and writes fds 0/1/2 with fs calls; only commands that reach the agent load `net`.
import { writeSync } from 'node:fs';
import { main, type PluginOutcome } from './plugin/main.js';
import { MAX_AGENT_TIMEOUT_MS, stdinBoundsOf } from './plugin/config.js';
import { toCniError } from './plugin/cni-errors.js';
import { readStdinBounded } from './plugin/stdin.js';
import { LATEST_CNI_VERSION } from './plugin/versions.js';
import { WeftError } from '../lib/errors/index.js';

/** Writes all of `text` to fd, also when the fd is a non-blocking pipe inherited from a Node parent. */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text, 'utf8');
  let spins = 0;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 5_000) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // reader is slow: wait 1 ms
    }
  }
}

let exiting = false;

function emit(outcome: PluginOutcome): void {
  if (exiting) return;
  exiting = true;
  try {
    writeAll(1, outcome.stdout);
  } catch {
    // stdout gone (runtime killed): the exit code still tells.
  }
  process.exit(outcome.exitCode);
}

function fail(err: unknown): void {
  emit({ stdout: JSON.stringify(toCniError(err, LATEST_CNI_VERSION)) + '\n', exitCode: 1 });
}

function logLine(line: string): void {
  try {
    writeAll(2, line);
  } catch {
    // A closed stderr must not fail the pod.
  }
}

async function run(): Promise<PluginOutcome> {
  const bounds = stdinBoundsOf(process.env);
  // Belt and braces over main's own deadline: the process never outlives this. It can fire because
  // nothing here blocks the event loop (stdin included, see plugin/stdin.ts).
  const hardLimitMs = MAX_AGENT_TIMEOUT_MS + bounds.timeoutMs + 5_000;
  setTimeout(() => fail(new WeftError('ERR_WEFT_CNI_INTERNAL', { reason: `still running after ${hardLimitMs} ms` })), hardLimitMs).unref();
  const stdin = await readStdinBounded(bounds);
  return main(process.env, stdin, { stderr: logLine });
}

run().then(emit, fail);
