// weft-cni: the chained CNI plugin process. Runs as `node dist/cni/plugin.js` or as the single executable
// `weft-cni` that scripts/build-cni.mjs builds; all behaviour lives in plugin/main.ts, this file only does
// process I/O. Keep imports minimal: startup time is added to every pod's creation.
//
// Measured on the lab VMs (Node 20, CPU profile of a VERSION run): touching `process.stdout`,
// `process.stderr` or `node:tty` on a pipe loads `net` + streams + tty (~10 ms of a ~80 ms start), so the
// plugin reads and writes fds 0/1/2 with fs calls; only commands that reach the agent load `net`.
import { fstatSync, readFileSync, writeSync } from 'node:fs';
import { main, type PluginOutcome } from './plugin/main.js';
import { MAX_AGENT_TIMEOUT_MS } from './plugin/config.js';
import { toCniError } from './plugin/cni-errors.js';
import { LATEST_CNI_VERSION } from './plugin/versions.js';
import { WeftError } from '../lib/errors/index.js';

/** The runtime writes the config and closes stdin at once; this only bounds a runtime that never does. */
const STDIN_TIMEOUT_MS = 5_000;
const MAX_STDIN_BYTES = 4 * 1024 * 1024;
/** Belt and braces over main's own deadline: the process never outlives this. */
const HARD_LIMIT_MS = MAX_AGENT_TIMEOUT_MS + STDIN_TIMEOUT_MS + 5_000;
/** Character devices with these majors are terminals (tty, console/ptmx, pts): nothing to read there. */
const TTY_MAJORS = new Set([4, 5, ...Array.from({ length: 8 }, (_, i) => 136 + i)]);

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

function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && TTY_MAJORS.has(Math.floor(st.rdev / 256) & 0xfff);
  } catch {
    return false;
  }
}

async function readStdin(): Promise<string> {
  // VERSION run by hand from a terminal: nothing to read.
  if (isTerminal(0)) return '';
  try {
    // The fast path: one blocking read of the pipe the runtime gave us.
    return readFileSync(0, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  // A non-blocking stdin (inherited from a Node parent): read it as a stream, bounded in time and size.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => reject(new WeftError('ERR_WEFT_CNI_CONFIG_DECODE', { reason: `stdin not closed within ${STDIN_TIMEOUT_MS} ms` })), STDIN_TIMEOUT_MS);
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_STDIN_BYTES) reject(new WeftError('ERR_WEFT_CNI_CONFIG_DECODE', { reason: `stdin larger than ${MAX_STDIN_BYTES} bytes` }));
      chunks.push(c);
    });
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    process.stdin.on('error', reject);
  });
}

setTimeout(() => fail(new WeftError('ERR_WEFT_CNI_INTERNAL', { reason: `still running after ${HARD_LIMIT_MS} ms` })), HARD_LIMIT_MS).unref();

readStdin()
  .then((stdin) => main(process.env, stdin, { stderr: logLine }))
  .then(emit, fail);
