import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { podNetns } from '../../lab/names.js';
import { inPod } from '../../lab/pod-etc.js';
import type { Lab } from './lab.js';

/** What lab/apps/loadgen.ts prints with `--timeline`. */
export interface LoadgenResult {
  sent: number;
  completed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** [start ms, end ms, status or error code] per request, epoch milliseconds. */
  requests: [number, number, number | string][];
  /** [ms, +1 | -1] per connection opened / closed. */
  connections: [number, 1 | -1][];
}

/**
 * Starts the lab's load generator in pod `namespace/pod` (its netns and its /etc, so Service names resolve
 * through the pod's hosts file) with `args`; resolves with its JSON report, rejects if it exits non-zero.
 * It is killed after `deadlineMs`, or when `signal` aborts (a test that needs load only while it runs).
 */
export function startLoadgen(lab: Lab, namespace: string, pod: string, args: readonly string[], deadlineMs: number, signal?: AbortSignal): Promise<LoadgenResult> {
  const argv = inPod(lab.paths, podNetns(lab.name, namespace, pod), [process.execPath, join(lab.info.distDir, 'lab/apps/loadgen.js'), ...args]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  signal?.addEventListener('abort', () => child.kill('SIGKILL'), { once: true });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(0, 2000)}`));
      resolve(JSON.parse(out) as LoadgenResult);
    });
  });
}
