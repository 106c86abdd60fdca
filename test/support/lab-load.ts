// The lab's load generator (lab/apps/loadgen.ts) run from inside a pod, and the node agents' JSON logs:
// shared by the E2E tests that change agents under load (restart, upgrade).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { podNetns } from '../../lab/names.js';
import { inPod } from '../../lab/pod-etc.js';
import type { Lab } from './lab.js';

export interface LoadResult {
  sent: number;
  completed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** [start ms, end ms, status or error] per request. */
  requests: [number, number, number | string][];
  /** [time ms, +1 opened / -1 closed] per connection event. */
  connections: [number, 1 | -1][];
}

export interface LoadOptions {
  /** `namespace/name` of the (captured) pod the load runs in. */
  readonly pod: string;
  readonly target: string;
  readonly rate: number;
  readonly durationS: number;
  /** One connection per request instead of a keep-alive pool of 10. */
  readonly newConnections?: boolean;
}

/** Starts the load generator in the pod's netns and /etc (its hosts file resolves Services); resolves with its JSON report. */
export function startLoad(lab: Lab, o: LoadOptions): Promise<LoadResult> {
  const [namespace, name] = o.pod.split('/');
  const argv = inPod(lab.paths, podNetns(lab.name, namespace, name), [
    process.execPath, join(lab.info.distDir, 'lab/apps/loadgen.js'),
    '--target', o.target, '--rate', String(o.rate), '--duration', String(o.durationS),
    // A restart on a loaded 2-core machine can take 10-20 s and a SYN retransmitted at 15 s may wait
    // until 31 s: the client waits that long (undici's default connect timeout is 10 s), so only
    // connections the mesh breaks count as errors, not a slow restart.
    '--connections', '10', '--timeout', '45', '--connect-timeout', '45', '--timeline',
    ...(o.newConnections ? ['--new-connections'] : []),
  ]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 120) * 1000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(0, 2000)}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

export interface AgentLogLine {
  pid: number;
  time: string;
  msg: string;
  [k: string]: unknown;
}

/** Every JSON line the node's agents (all pids) wrote to the lab's agent log. */
export async function agentLog(lab: Lab, node: string): Promise<AgentLogLine[]> {
  return (await readFile(join(lab.paths.logs, `agent-${node}.log`), 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AgentLogLine);
}

/** Requests `url` from the pod until one answers 200 (certificates, pools), so that a run measures what it changes, not the first request. */
export async function warmUp(lab: Lab, pod: string, url: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const r = await lab.exec(pod, ['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', url]);
    if (r.stdout === '200') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
