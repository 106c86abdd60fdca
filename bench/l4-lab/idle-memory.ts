import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from './agent-inspector.js';
import { procMemory, type BenchLab } from './bench-lab.js';

/**
 * The memory half of bench/l4-lab: a node agent's RSS with 0, 10 and 100 idle enrolled pods on its
 * node (a node with no other pods). Idle pods are a Deployment of the lab's `debian` image (its command
 * defaults to `sleep infinity`) pinned to the node, in a namespace labelled for capture; it is scaled up
 * in steps so that the node's CNI chain (one weft-cni process per ADD) does not run 90 at once.
 * Each point: VmRSS as it is, then a forced GC through the inspector (process.memoryUsage()), then VmRSS
 * again; that last one is what the targets use (less noise from garbage not yet collected).
 */
export const IDLE_NAMESPACE = 'idle';

export function idleDeployment(node: string, replicas: number): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: idle, namespace: ${IDLE_NAMESPACE} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: idle } }
  template:
    metadata: { labels: { app: idle } }
    spec:
      nodeName: ${node}
      containers: [{ name: sleep, image: debian }]
`;
}

export interface MemoryPoint {
  idlePods: number;
  enrolledOnNode: number;
  vmRssMiB: number;
  afterGc: Record<string, number>;
  memoryUsageMiB: Record<string, number>;
  fds: number;
  /** Seconds from the first apply to the last pod enrolled (scaling up to this point). */
  enrollSeconds?: number;
  /** Enrollments lost while scaling up (weft-cni ADD timed out, the runtime's DEL released the pod). */
  enrollmentsLost?: number;
}

async function enrolledIn(lab: BenchLab, node: string, namespace: string | undefined): Promise<number> {
  const r = await lab.nodeGet(node, 'http://127.0.0.1:15000/debug/pods');
  if (r.code !== 200) return -1;
  const pods = (JSON.parse(r.body) as { pods: { namespace: string }[] }).pods;
  return namespace === undefined ? pods.length : pods.filter((p) => p.namespace === namespace).length;
}

/** Waits until `want` idle pods are enrolled; returns how many enrollments were lost on the way. */
export async function waitEnrolled(lab: BenchLab, node: string, want: number, timeoutMs: number, progress: (s: string) => void): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastPrint = Date.now();
  let dropped = 0;
  for (;;) {
    const n = await enrolledIn(lab, node, IDLE_NAMESPACE);
    if (n === want) return dropped;
    // Fewer than before: ADDs timed out and the runtime's DEL of the failed attempt released pods.
    if (last >= 0 && n < last) dropped += last - n;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${want} idle pods enrolled on ${node} after ${timeoutMs / 1000} s`);
    if (n !== last && Date.now() - lastPrint > 5000) {
      progress(`   ${n}/${want} idle pods enrolled on ${node}`);
      lastPrint = Date.now();
    }
    last = n;
    await sleep(500);
  }
}

const mib = (b: unknown): number => Math.round((Number(b) / 1048576) * 10) / 10;

export async function measure(lab: BenchLab, node: string, pid: number, idlePods: number, settleMs: number): Promise<MemoryPoint> {
  await sleep(settleMs);
  const before = procMemory(pid);
  const mu = await inspect(lab, node, ['memory']);
  const afterGc = procMemory(pid);
  return {
    idlePods,
    enrolledOnNode: await enrolledIn(lab, node, undefined),
    vmRssMiB: before.VmRSS,
    afterGc,
    memoryUsageMiB: Object.fromEntries(['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map((k) => [k, mib(mu[k])])),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}

export interface HeapSummary {
  heapBytes: number;
  snapshotBytes: number;
  top: { name: string; count: number; bytes: number }[];
  counts: Record<string, number>;
}

/** Constructors whose count grew by at least one per added pod between two heap snapshots. */
export function perPodObjects(base: HeapSummary, now: HeapSummary, pods: number): { name: string; perPod: number }[] {
  const out: { name: string; perPod: number }[] = [];
  for (const [name, n] of Object.entries(now.counts)) {
    // Named objects and closures only: code, strings, shapes and arrays also grow with the code paths an
    // enrollment compiles once, which says nothing about what each pod keeps.
    if (!/^(object|closure|native):/.test(name)) continue;
    const per = (n - (base.counts[name] ?? 0)) / pods;
    if (per >= 0.95) out.push({ name, perPod: Math.round(per * 10) / 10 });
  }
  return out.sort((a, b) => b.perPod - a.perPod).slice(0, 30);
}
