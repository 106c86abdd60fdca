// The node agents' JSON logs in a lab, and warming a path before a measured run: for the E2E tests that
// change agents under load (the load generator itself is mesh-load.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from './lab.js';

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
