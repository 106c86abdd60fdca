// The node agents' JSON logs in a lab, and warming a path before a measured run: for the E2E tests that
// change agents under load (the load generator itself is mesh-load.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import { eventually } from './eventually.js';

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
  await eventually(async () => (await lab.exec(pod, ['curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', url])).stdout === '200', 30_000, `${url} answering 200 from ${pod}`, 500);
}
