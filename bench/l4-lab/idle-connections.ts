import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { podNetns } from '../../lab/names.js';
import { inNetns } from '../../lab/netns.js';
import { inspect } from './agent-inspector.js';
import { LOADGEN, procMemory, type BenchLab } from './bench-lab.js';
import type { HeapSummary } from './idle-memory.js';

/**
 * The connection-memory step of bench/l4-lab: N idle connections from the client pod on n1 to the server
 * pod on n2 (loadgen `hold` in the client pod: 128 bytes echoed on each, then nothing), and what each
 * open connection costs the proxies on the path: for weft the node agents of both nodes (VmRSS and,
 * after a GC forced through the inspector, process.memoryUsage(): heap, external, array buffers), for
 * haproxy its two processes (VmRSS). Per connection = (at N − before) / N, after GC. Then, for the
 * agents, a heap snapshot with the connections open and one after they closed: the objects and bytes
 * per connection by constructor say where the heap part goes. Snapshots leave tens of MiB in the RSS, so
 * they come after the RSS points. The hold process is ended (its connections closed) on every path out.
 */

export interface ProxyProcess {
  /** `agent-n1`, `haproxy-1`... */
  readonly name: string;
  readonly pid: number;
  /** The lab node whose agent this is (read through the inspector), or undefined (VmRSS only). */
  readonly node?: string;
}

interface Point {
  vmRssMiB: number;
  afterGc: Record<string, number>;
  memoryUsage?: Record<string, number>;
  fds: number;
}

const SETTLE_MS = 3000;
const HOLD_TIMEOUT_MS = 5 * 60_000;
const HEAP_TOP = 60;

async function point(lab: BenchLab, p: ProxyProcess): Promise<Point> {
  const vmRssMiB = procMemory(p.pid).VmRSS;
  const memoryUsage = p.node ? ((await inspect(lab, p.node, ['memory'])) as Record<string, number>) : undefined;
  return { vmRssMiB, afterGc: procMemory(p.pid), ...(memoryUsage ? { memoryUsage: pick(memoryUsage) } : {}), fds: readdirSync(`/proc/${p.pid}/fd`).length };
}

function pick(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map((k) => [k, m[k]]));
}

/** Starts loadgen `hold` in the client pod; resolves once its N connections are open. */
function holdConnections(lab: BenchLab, namespace: string, host: string, port: number, n: number): Promise<{ child: ChildProcess; opened: Record<string, unknown>; done: Promise<Record<string, unknown>> }> {
  const [cmd, ...args] = inNetns(podNetns(lab.name, namespace, 'client'), [process.execPath, LOADGEN, 'hold', '--host', host, '--port', String(port), '--conns', String(n)]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  const lines: Record<string, unknown>[] = [];
  let onLine: (() => void) | undefined;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      lines.push(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
      out = out.slice(nl + 1);
      onLine?.();
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const done = exited.then((code) => {
    if (code !== 0) throw new Error(`loadgen hold exited ${code}: ${err.trim()}`);
    return lines[lines.length - 1];
  });
  done.catch(() => undefined); // awaited by the caller once it ends the hold
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${n} idle connections not open after ${HOLD_TIMEOUT_MS / 1000} s: ${err.trim()}`));
    }, HOLD_TIMEOUT_MS);
    onLine = () => {
      clearTimeout(timer);
      resolve({ child, opened: lines[0], done });
    };
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`loadgen hold exited ${code} before its connections were open: ${err.trim()}`));
    });
  });
}

const bytes = (mib: number): number => mib * 1048576;

/** Bytes per connection between two points: VmRSS after GC, and the agents' memoryUsage parts. */
function perConnection(before: Point, at: Point, n: number): Record<string, number> {
  const out: Record<string, number> = { vmRss: Math.round((bytes(at.afterGc.VmRSS) - bytes(before.afterGc.VmRSS)) / n) };
  if (before.memoryUsage && at.memoryUsage) {
    for (const k of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers']) out[k] = Math.round((at.memoryUsage[k] - before.memoryUsage[k]) / n);
    // What the RSS grew by beyond the JS heap and external memory: native allocations (libuv handles,
    // nghttp2 and OpenSSL state, malloc arenas) and heap pages not given back.
    out.nativeAndOther = out.vmRss - out.heapTotal - out.external;
    out.fds = Math.round(((at.fds - before.fds) / n) * 100) / 100;
  }
  return out;
}

/** Per-connection objects and bytes by constructor, from a snapshot with the connections open and one after. */
function heapPerConnection(open: HeapSummary, closed: HeapSummary, n: number): { name: string; count: number; bytes: number }[] {
  const after = new Map(closed.top.map((e) => [e.name, e]));
  return open.top
    .map((e) => ({ name: e.name, count: Math.round(((e.count - (after.get(e.name)?.count ?? 0)) / n) * 10) / 10, bytes: Math.round((e.bytes - (after.get(e.name)?.bytes ?? 0)) / n) }))
    .filter((e) => e.bytes >= 8)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 25);
}

export async function idleConnections(lab: BenchLab, variant: { name: string; namespace: string; host: string; echoPort: number }, procs: ProxyProcess[], n: number, progress: (s: string) => void): Promise<Record<string, unknown>> {
  const agents = procs.filter((p) => p.node !== undefined);
  for (const a of agents) process.kill(a.pid, 'SIGUSR1'); // the inspector (a no-op when already open)
  await sleep(500);
  await sleep(SETTLE_MS);
  const before = Object.fromEntries(await Promise.all(procs.map(async (p) => [p.name, await point(lab, p)] as const)));
  const hold = await holdConnections(lab, variant.namespace, variant.host, variant.echoPort, n);
  let ended = false;
  const end = async (): Promise<Record<string, unknown>> => {
    if (!ended) hold.child.stdin?.end();
    ended = true;
    const kill = setTimeout(() => hold.child.kill('SIGKILL'), 60_000);
    return hold.done.finally(() => clearTimeout(kill));
  };
  try {
    progress(`   ${variant.name}: ${n} idle connections open in ${Number(hold.opened.openMs) / 1000} s`);
    await sleep(SETTLE_MS);
    const at = Object.fromEntries(await Promise.all(procs.map(async (p) => [p.name, await point(lab, p)] as const)));
    const per = Object.fromEntries(procs.map((p) => [p.name, perConnection(before[p.name], at[p.name], n)]));
    for (const p of procs) progress(`   ${variant.name} ${p.name}: ${JSON.stringify(per[p.name])} bytes per connection (VmRSS ${before[p.name].afterGc.VmRSS} → ${at[p.name].afterGc.VmRSS} MiB after GC)`);
    const heapOpen = Object.fromEntries(await Promise.all(agents.map(async (a) => [a.name, (await inspect(lab, a.node!, ['heap', '--top', String(HEAP_TOP)], 180_000)) as unknown as HeapSummary] as const)));
    const held = await end();
    await sleep(SETTLE_MS);
    const closed = Object.fromEntries(await Promise.all(procs.map(async (p) => [p.name, await point(lab, p)] as const)));
    const heapClosed = Object.fromEntries(await Promise.all(agents.map(async (a) => [a.name, (await inspect(lab, a.node!, ['heap', '--top', String(HEAP_TOP)], 180_000)) as unknown as HeapSummary] as const)));
    const heap = Object.fromEntries(agents.map((a) => [a.name, { heapBytesOpen: heapOpen[a.name].heapBytes, heapBytesClosed: heapClosed[a.name].heapBytes, perConnection: heapPerConnection(heapOpen[a.name], heapClosed[a.name], n) }]));
    // `closed` comes after the first heap snapshot, whose tens of MiB stay in the RSS: its heap and fds say
    // whether the connections' memory came back, its VmRSS does not.
    return { connections: n, hold: { ...hold.opened, ...held }, before, at, closedAfterHeapSnapshot: closed, perConnectionBytes: per, heap };
  } finally {
    if (!ended) await end().catch(() => undefined);
  }
}

/** Above this, an open connection costs a node agent more than ztunnel's ~3.8 KB (issue 14's goal). */
const PER_CONNECTION_TARGET_BYTES = 4096;

/** The per-open-connection target on the larger of the two agents' VmRSS slopes (bytes). */
export function idleConnsTarget(r: Record<string, unknown> | undefined): { target: string; value: number; met: boolean | undefined } | undefined {
  const weft = r?.weft as { perConnectionBytes: Record<string, { vmRss: number }> } | undefined;
  if (!weft) return undefined;
  const value = Math.max(...Object.values(weft.perConnectionBytes).map((p) => p.vmRss));
  return { target: `<= ${PER_CONNECTION_TARGET_BYTES} bytes VmRSS per open connection on each agent`, value, met: Number.isFinite(value) ? value <= PER_CONNECTION_TARGET_BYTES : undefined };
}
