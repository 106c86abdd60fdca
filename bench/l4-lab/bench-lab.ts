import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyManifests } from '../../lab/apply.js';
import { run, type RunResult } from '../../lab/command.js';
import { labClient } from '../../lab/kube/lab-client.js';
import { parseManifests } from '../../lab/manifests.js';
import { labPaths, podNetns, type LabPaths } from '../../lab/names.js';
import { inNetns } from '../../lab/netns.js';
import { readRecord } from '../../lab/processes.js';
import type { LabInfo } from '../../lab/state.js';
import { teardownLab } from '../../lab/teardown.js';
import { labUp } from '../../lab/up.js';
import { silentLogger } from '../../lib/telemetry/log.js';

/**
 * The bench's handle on a real lab, through the lab's own API (the same functions `weft lab up/apply/
 * down` call): bring it up, apply YAML, run programs in a pod's or a node's namespace, and find the node
 * agents' pids for /proc readings.
 */
const here = dirname(fileURLToPath(import.meta.url));
// Scripts a pod runs by path (dist/bench/...): a lab pod shares this machine's file system.
export { BACKEND, LOADGEN } from '../lib/child-scripts.js';
export const INSPECTOR = join(here, 'inspector.js');

export class BenchLab {
  private constructor(
    readonly name: string,
    readonly paths: LabPaths,
    readonly info: LabInfo,
  ) {}

  static async up(name: string, nodes: number): Promise<BenchLab> {
    const info = await labUp({ name, nodes, log: silentLogger, mesh: true });
    if (!info.agent) throw new Error('the lab runs without node agents: build first (npm run build: dist/control, dist/node-agent, dist/cni)');
    return new BenchLab(name, labPaths(name), info);
  }

  /** Removes everything the lab made (processes, namespaces, state); safe to call twice. */
  static down(name: string): ReturnType<typeof teardownLab> {
    return teardownLab(name);
  }

  async apply(yaml: string): Promise<void> {
    await applyManifests(labClient(this.info), parseManifests(yaml, 'bench/l4-lab'));
  }

  nodeNetns(node: string): string {
    const n = this.info.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`no node ${node} in lab ${this.name}`);
    return n.netns;
  }

  nodeIp(node: string): string {
    return this.info.nodes.find((x) => x.name === node)!.ip;
  }

  execInPod(namespace: string, pod: string, argv: readonly string[], timeoutMs: number): Promise<RunResult> {
    return run(inNetns(podNetns(this.name, namespace, pod), argv), { allowFailure: true, timeoutMs });
  }

  execInNode(node: string, argv: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
    return run(inNetns(this.nodeNetns(node), argv), { allowFailure: true, timeoutMs });
  }

  /** The node agent's pid (the lab starts it with `nsenter ... node`, which execs: the pid is node's). */
  async agentPid(node: string): Promise<number> {
    const rec = await readRecord(this.paths.procs, `agent-${node}`);
    if (!rec) throw new Error(`no agent record for ${node}`);
    return rec.pid;
  }

  /** GET from inside a node's namespace (the agents' admin, metrics and health ports live there). */
  async nodeGet(node: string, url: string): Promise<{ code: number; body: string }> {
    const r = await this.execInNode(node, ['curl', '-s', '-m', '5', '-w', '\n%{http_code}', url]);
    const i = r.stdout.lastIndexOf('\n');
    return { code: Number(r.stdout.slice(i + 1)) || 0, body: r.stdout.slice(0, i) };
  }
}

/** user+system CPU time of a process in ms (/proc/<pid>/stat fields 14 and 15, 100 ticks/s). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Fields of /proc/<pid>/status in MiB (VmRSS, RssAnon, RssFile, ...). */
export function procMemory(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Math.round((Number(m[2]) / 1024) * 10) / 10;
  }
  return out;
}
