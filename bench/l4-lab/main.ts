// `npm run bench -- l4-lab [--seconds 4] [--warmup 1] [--bulk-seconds 5] [--idle 10,100] [--no-profile] [--out <file>] ...`
//
// Pod → pod across two nodes of a real lab (control plane, CNI chain, node agents), three variants in one
// run, each from a client pod on n1 to a server pod on n2:
//   none     namespace `plain` (not labelled): bridge → underlay → bridge
//   weft     namespace `mesh` (weft.dev/dataplane-mode=ambient): captured, HBONE between the node agents
//   haproxy  namespace `hap` (not labelled): the client pod targets a haproxy in n1's namespace, which
//            opens mTLS to a haproxy in n2's namespace, which forwards to the server pod (placed like
//            the agents; see haproxy-pair.ts)
// Phases, each run for all three variants back to back (so that the machine's noise hits them alike):
// p50/p99 at a fixed 1 000 requests/s over 10 keep-alive connections (open loop; 3 interleaved rounds,
// median reported), max requests/s
// (closed loop, 32 connections), one-stream throughput, and last p50 of 500 new connections/s. The load
// generator runs inside the client pod (`ip netns exec`). CPU time of the two proxies of each variant is
// read from /proc around each phase. Then, unless --no-profile, the weft agents are CPU-profiled through
// the inspector (SIGUSR1) while the weft phases run again. Last, the node agent of n3 (no other pods)
// is measured with 0, 10 and 100 idle enrolled pods. Targets are printed as met/missed; everything is
// written to bench/results/l4-lab.json (or --out). The lab and haproxy are removed at the end, also on failure or
// Ctrl-C.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { labPaths } from '../../lab/names.js';
import { DEFAULTS, ENV_MAX_CONNECTIONS_PER_POD, ENV_MAX_CONNECTIONS_PER_SOURCE } from '../../node-agent/config.js';
import { ensureProcess, readRecord, stopProcess } from '../../lab/processes.js';
import { labStatus } from '../../lab/status.js';
import { waitPodsReady } from '../../lab/wait.js';
import { inspect, startCpuProfile } from './agent-inspector.js';
import { BACKEND, BenchLab, cpuMs, LOADGEN, procMemory } from './bench-lab.js';
import { HAPROXY_ECHO_PORT, HAPROXY_SINK_PORT, startHaproxyPair, writeHaproxyPki, type HaproxyPair } from './haproxy-pair.js';
import { idleConnections, idleConnsTarget, type ProxyProcess } from './idle-connections.js';
import { idleDeployment, IDLE_NAMESPACE, measure, perPodObjects, waitEnrolled, type HeapSummary, type MemoryPoint } from './idle-memory.js';
import { writeBenchResult } from '../lib/results-file.js';
import { analyse, summarize, type PhaseResult, type VariantResults } from './report.js';
import { parseOptions } from './options.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'cli', 'main.js');

const options = parseOptions(process.argv.slice(2));
const t0 = Date.now();
const progress = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);

interface Variant {
  readonly name: 'none' | 'weft' | 'haproxy';
  readonly namespace: string;
  host: string;
  echoPort: number;
  sinkPort: number;
  /** The two proxies whose CPU time each phase reads (none: nothing in the path). */
  pids: number[];
}

/** A pod and its ServiceAccount (the lab's API server admits no pod whose ServiceAccount is missing). */
const podYaml = (ns: string, name: string, node: string, extra: string): string => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}, namespace: ${ns} }
---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}, labels: { app: ${name} } }
spec:
  nodeName: ${node}
  serviceAccountName: ${name}
  containers:
    - name: main
      image: debian${extra}
---`;

function manifests(): string {
  const server = `
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(BACKEND)}, '--host', '0.0.0.0', '--echo-port', '9000', '--sink-port', '9001']
      ports: [{ containerPort: 9000 }, { containerPort: 9001 }]
      readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 }`;
  const ns = (name: string, captured: boolean): string => `
apiVersion: v1
kind: Namespace
metadata: { name: ${name}${captured ? ', labels: { weft.dev/dataplane-mode: ambient }' : ''} }
---`;
  return [
    ns('plain', false),
    ns('mesh', true),
    ns('hap', false),
    ns(IDLE_NAMESPACE, true),
    ...['plain', 'mesh', 'hap'].flatMap((n) => [podYaml(n, 'client', 'n1', ''), podYaml(n, 'server', 'n2', server)]),
  ].join('\n');
}

let lab: BenchLab | undefined;
let labName: string | undefined;
let haproxy: HaproxyPair | undefined;
let tmp: string | undefined;
let cleaned: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    await haproxy?.stop().catch(() => undefined);
    if (labName) {
      progress(`tearing down lab ${labName}`);
      const r = await BenchLab.down(labName).catch((err: unknown) => {
        console.error(`teardown failed: ${(err as Error).message}`);
        return undefined;
      });
      if (r) progress(`removed ${r.processes} processes and ${r.namespaces.length} namespaces`);
      labName = undefined;
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  })();
  return cleaned;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Last resort if the process dies another way: the CLI's `lab down` (synchronous, as 'exit' requires).
process.on('exit', () => {
  if (labName) spawnSync(process.execPath, [CLI, 'lab', 'down', '--lab', labName], { stdio: 'ignore' });
});

async function loadgen(v: Variant, mode: string, port: number, extra: Record<string, number>, timeoutS: number): Promise<PhaseResult> {
  const args = [mode, '--host', v.host, '--port', String(port)];
  for (const [k, x] of Object.entries(extra)) args.push(`--${k}`, String(x));
  const r = await lab!.execInPod(v.namespace, 'client', [process.execPath, LOADGEN, ...args], timeoutS * 1000);
  if (r.code !== 0) throw new Error(`loadgen ${mode} (${v.name}) failed (${r.code}): ${r.stderr.trim().slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PhaseResult;
}

/** Runs one phase and adds the CPU time its proxies spent during it. */
async function phase(v: Variant, mode: string, port: number, extra: Record<string, number>, timeoutS: number): Promise<PhaseResult> {
  const before = v.pids.map(cpuMs);
  const r = await loadgen(v, mode, port, extra, timeoutS);
  if (v.pids.length) r.proxyCpuMs = Math.round(v.pids.map(cpuMs).reduce((a, x, i) => a + x - before[i], 0));
  return r;
}

const fmt = (r: PhaseResult, keys: string[]): string =>
  keys
    .filter((k) => r[k] !== undefined)
    .map((k) => `${k} ${JSON.stringify(r[k])}`)
    .join('  ');

async function traffic(variants: Variant[]): Promise<VariantResults> {
  const out: VariantResults = {};
  for (const v of variants) out[v.name] = {};
  const timed = { seconds: options.seconds, warmup: options.warmup };
  const timeout = options.seconds + options.warmup + 40;
  const steps: { key: string; title: string; run: (v: Variant) => Promise<PhaseResult>; show: string[] }[] = [
    { key: 'keepalive', title: `${options.rps} rps over ${options.keepaliveConns} keep-alive connections`, run: (v) => phase(v, 'latency', v.echoPort, { ...timed, rps: options.rps, conns: options.keepaliveConns }, timeout), show: ['p50Ms', 'p99Ms', 'errors', 'proxyCpuMs'] },
    { key: 'maxrps', title: `max rps, closed loop, ${options.maxConns} connections`, run: (v) => phase(v, 'maxrps', v.echoPort, { ...timed, conns: options.maxConns }, timeout), show: ['rps', 'p50Ms', 'p99Ms', 'errors'] },
    { key: 'bulk', title: `one stream for ${options.bulkSeconds} s`, run: (v) => phase(v, 'bulk', v.sinkPort, { seconds: options.bulkSeconds }, options.bulkSeconds + 40), show: ['mibPerS', 'proxyCpuMs'] },
    // Last: a proxy that cannot keep up with the handshakes is still working off its backlog afterwards.
    { key: 'newconn', title: `${options.connRate} new connections/s`, run: (v) => phase(v, 'connrate', v.echoPort, { ...timed, rate: options.connRate }, timeout), show: ['p50Ms', 'p99Ms', 'errors', 'errorCodes', 'proxyCpuMs'] },
  ];
  for (const s of steps) {
    // The keep-alive latencies decide the p99 target and one load spike on this shared machine can hit
    // any variant, so that phase runs in interleaved rounds and reports each variant's median round.
    const rounds = s.key === 'keepalive' ? options.rounds : 1;
    const all = new Map<string, PhaseResult[]>(variants.map((v) => [v.name, []]));
    for (let round = 1; round <= rounds; round++) {
      progress(rounds > 1 ? `${s.title} (round ${round}/${rounds})` : s.title);
      for (const v of variants) {
        const r = await s.run(v);
        all.get(v.name)!.push(r);
        progress(`   ${v.name.padEnd(8)} ${fmt(r, s.show)}`);
      }
    }
    for (const v of variants) out[v.name][s.key] = rounds > 1 ? medianRound(all.get(v.name)!) : all.get(v.name)![0];
  }
  return out;
}

/** The median of each percentile over rounds (and the mean CPU), with every round kept for the record. */
function medianRound(rs: PhaseResult[]): PhaseResult {
  const med = (k: string): number => {
    const xs = rs.map((r) => (r[k] === null ? Infinity : Number(r[k]))).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const cpu = rs.map((r) => Number(r.proxyCpuMs));
  return {
    mode: rs[0].mode,
    count: rs.reduce((a, r) => a + Number(r.count), 0) / rs.length,
    errors: rs.reduce((a, r) => a + Number(r.errors), 0),
    p50Ms: med('p50Ms'),
    p90Ms: med('p90Ms'),
    p99Ms: med('p99Ms'),
    ...(cpu.every(Number.isFinite) ? { proxyCpuMs: Math.round(cpu.reduce((a, x) => a + x, 0) / cpu.length) } : {}),
    of: `median of ${rs.length} interleaved rounds`,
    rounds: rs,
  };
}

/** The weft phases again, with both agents under the inspector's sampling profiler. */
async function profileWeft(v: Variant, agents: { node: string; pid: number }[]): Promise<Record<string, unknown>> {
  for (const a of agents) process.kill(a.pid, 'SIGUSR1');
  await sleep(500);
  const s = options.profileSeconds;
  const runs: [string, () => Promise<PhaseResult>][] = [
    ['keepalive', () => loadgen(v, 'latency', v.echoPort, { seconds: s, warmup: 0.5, rps: options.rps, conns: options.keepaliveConns }, s + 40)],
    ['newconn', () => loadgen(v, 'connrate', v.echoPort, { seconds: s, warmup: 0.5, rate: options.connRate }, s + 40)],
    ['bulk', () => loadgen(v, 'bulk', v.sinkPort, { seconds: s }, s + 40)],
  ];
  const out: Record<string, unknown> = {};
  for (const [name, load] of runs) {
    progress(`   profiling both weft agents: ${name}`);
    const profilers = await Promise.all(agents.map((a) => startCpuProfile(lab!, a.node)));
    // The profilers are stopped whether or not the load succeeded, then a failed load is reported.
    const loaded = await load().then(
      (r) => ({ r }),
      (e: unknown) => ({ e }),
    );
    const profiles = await Promise.all(profilers.map((p) => p.stop()));
    if ('e' in loaded) throw loaded.e;
    out[name] = { load: loaded.r, ...Object.fromEntries(agents.map((a, i) => [`agent-${a.node}`, profiles[i]])) };
  }
  return out;
}

/** Restarts a node's agent as the lab started it (same argv, same process record). */
async function restartAgent(node: string): Promise<number> {
  const id = `agent-${node}`;
  const rec = await readRecord(lab!.paths.procs, id);
  if (!rec) throw new Error(`no process record ${id}`);
  await stopProcess(rec, 5000);
  await ensureProcess(lab!.paths, id, rec.argv);
  const deadline = Date.now() + 60_000;
  while ((await lab!.nodeGet(node, `http://${lab!.nodeIp(node)}:15021/healthz/ready`)).code !== 200) {
    if (Date.now() > deadline) throw new Error(`${id} not ready 60 s after a restart`);
    await sleep(250);
  }
  return lab!.agentPid(node);
}

interface IdleBaseline {
  pid: number;
  pristineRssMiB: number;
  base: HeapSummary;
  zero: MemoryPoint;
}

/**
 * The 0-pod point on n3 (run while the traffic pods start: n3 has none of them). A heap snapshot leaves
 * tens of MiB in the process's RSS, so the 0-pod snapshot (the base of the per-pod object counts) is
 * taken from this agent, which is then restarted for the RSS points.
 */
async function idleBaseline(node: string): Promise<IdleBaseline> {
  process.kill(await lab!.agentPid(node), 'SIGUSR1');
  await sleep(500);
  const base = (await inspect(lab!, node, ['heap', '--top', '25'], 120_000)) as unknown as HeapSummary;
  const pid = await restartAgent(node);
  await sleep(3000);
  const pristineRssMiB = procMemory(pid).VmRSS;
  process.kill(pid, 'SIGUSR1'); // the inspector: forced GC (and the last snapshot), open for every point
  await sleep(500);
  const zero = await measure(lab!, node, pid, 0, 1000);
  return { pid, pristineRssMiB, base, zero };
}

async function idleMemory(node: string, b: IdleBaseline): Promise<{ pristineRssMiB: number; points: MemoryPoint[]; perPodObjects?: { name: string; perPod: number }[]; heapAtMost?: HeapSummary }> {
  const points: MemoryPoint[] = [b.zero];
  progress(`   0 idle pods: RSS ${b.pristineRssMiB} MiB (3 s after start, before the inspector was opened), ${b.zero.afterGc.VmRSS} MiB after GC (heap used ${b.zero.memoryUsageMiB.heapUsed} MiB)`);
  let have = 0;
  for (const want of options.idle) {
    const started = Date.now();
    let enrollmentsLost = 0;
    while (have < want) {
      have = Math.min(want, have + options.idleStep);
      await lab!.apply(idleDeployment(node, have));
      enrollmentsLost += await waitEnrolled(lab!, node, have, 180_000, progress);
    }
    const enrollSeconds = Math.round((Date.now() - started) / 100) / 10;
    const p = { ...(await measure(lab!, node, b.pid, want, 3000)), enrollSeconds, enrollmentsLost };
    points.push(p);
    progress(`   ${want} idle pods (enrolled in ${enrollSeconds} s): RSS ${p.afterGc.VmRSS} MiB after GC (heap used ${p.memoryUsageMiB.heapUsed} MiB, ${p.fds} fds)`);
  }
  if (have === 0) return { pristineRssMiB: b.pristineRssMiB, points };
  const last = (await inspect(lab!, node, ['heap', '--top', '25'], 120_000)) as unknown as HeapSummary;
  return { pristineRssMiB: b.pristineRssMiB, points, perPodObjects: perPodObjects(b.base, last, have), heapAtMost: { ...last, counts: {} } };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('l4-lab needs root (network namespaces)');
  for (const f of ['control/main.js', 'node-agent/main.js', 'cni/weft-cni', 'lab/kubelet-main.js']) {
    if (!existsSync(join(here, '..', '..', f))) throw new Error(`dist/${f} is missing: run npm run build`);
  }
  const abort = setTimeout(() => {
    console.error(`l4-lab: still running after ${options.maxMinutes} min; aborting`);
    void cleanup().finally(() => process.exit(1));
  }, options.maxMinutes * 60_000);
  abort.unref();

  // One client pod opens all the idle connections: the agents' per-source bound (2048 by default, a
  // guard against one noisy client) would refuse most of them, so the lab's agents get room for them.
  if (options.idleConns > 0) {
    const room = String(Math.max(DEFAULTS.maxConnectionsPerSource, options.idleConns + 1000));
    process.env[ENV_MAX_CONNECTIONS_PER_SOURCE] = room;
    process.env[ENV_MAX_CONNECTIONS_PER_POD] = String(Math.max(DEFAULTS.maxConnectionsPerPod, options.idleConns + 1000));
  }
  labName = `b${randomBytes(4).toString('hex')}`;
  tmp = mkdtempSync(join(tmpdir(), `weft-${labName}-`));
  progress(`lab ${labName}: 3 nodes (n1 clients, n2 servers, n3 idle pods), control plane, agents`);
  lab = await BenchLab.up(labName, 3);
  await writeHaproxyPki(tmp);
  await lab.apply(manifests());
  progress(`waiting for the 6 pods${options.idle.length ? '; meanwhile the 0-pod point of the n3 agent (heap snapshot, restart, RSS)' : ''}`);
  const baseline = options.idle.length ? idleBaseline('n3') : undefined;
  baseline?.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  await waitPodsReady(lab.info, 180_000, 6);
  const status = await labStatus(lab.info);
  const pod = (ns: string, name: string): { ip: string; captured: boolean } => {
    const p = status.pods.find((x) => x.namespace === ns && x.name === name);
    if (!p) throw new Error(`pod ${ns}/${name} missing`);
    return p;
  };
  for (const ns of ['plain', 'mesh', 'hap'])
    for (const name of ['client', 'server']) {
      const want = ns === 'mesh';
      if (pod(ns, name).captured !== want) throw new Error(`${ns}/${name} is ${want ? 'not ' : ''}captured; the comparison would be wrong`);
    }

  const [n1, n2] = ['n1', 'n2'];
  haproxy = await startHaproxyPair(
    tmp,
    { clientNetns: lab.nodeNetns(n1), serverNetns: lab.nodeNetns(n2), clientNodeIp: lab.nodeIp(n1), serverNodeIp: lab.nodeIp(n2), serverPodIp: pod('hap', 'server').ip },
    (msg) => console.error(msg),
  );
  const agents = [
    { node: n1, pid: await lab.agentPid(n1) },
    { node: n2, pid: await lab.agentPid(n2) },
  ];
  const all: Variant[] = [
    { name: 'none', namespace: 'plain', host: pod('plain', 'server').ip, echoPort: 9000, sinkPort: 9001, pids: [] },
    { name: 'weft', namespace: 'mesh', host: pod('mesh', 'server').ip, echoPort: 9000, sinkPort: 9001, pids: agents.map((a) => a.pid) },
    { name: 'haproxy', namespace: 'hap', host: lab.nodeIp(n1), echoPort: HAPROXY_ECHO_PORT, sinkPort: HAPROXY_SINK_PORT, pids: haproxy.pids },
  ];
  const variants = all.filter((v) => options.only.includes(v.name));
  for (const v of variants) {
    const r = await loadgen(v, 'ping', v.echoPort, {}, 40);
    progress(`path ${v.name.padEnd(8)} up (${Number(r.attempts)} attempt(s), ${Number(r.ms)} ms)`);
  }

  const results = options.traffic ? await traffic(variants) : {};
  const weft = variants.find((v) => v.name === 'weft');
  const profile = options.traffic && options.profile && weft ? await profileWeft(weft, agents) : undefined;
  const agentsAfterTraffic = Object.fromEntries(agents.map((a) => [`agent-${a.node}`, procMemory(a.pid)]));

  let idleConns: Record<string, unknown> | undefined;
  if (options.idleConns > 0) {
    progress(`${options.idleConns} idle connections client pod → server pod: memory per open connection`);
    idleConns = {};
    for (const v of variants.filter((x) => x.name !== 'none')) {
      const procs: ProxyProcess[] = v.name === 'weft' ? agents.map((a) => ({ name: `agent-${a.node}`, pid: a.pid, node: a.node })) : v.pids.map((pid, i) => ({ name: `haproxy-${i === 0 ? n2 : n1}`, pid }));
      idleConns[v.name] = await idleConnections(lab, v, procs, options.idleConns, progress);
    }
  }
  await haproxy.stop();
  haproxy = undefined;

  let memory: Awaited<ReturnType<typeof idleMemory>> | undefined;
  if (options.idle.length) {
    progress(`agent RSS on n3 with 0, ${options.idle.join(', ')} idle enrolled pods`);
    memory = await idleMemory('n3', await baseline!);
  }

  const summary = summarize(results, memory?.points ?? []);
  const analysis = analyse(results, summary, { keepaliveRequests: options.rps * (options.warmup + options.seconds), newConnections: options.connRate * (options.warmup + options.seconds), keepaliveBudgetMs: (1000 * options.keepaliveConns) / options.rps }, profile, memory, agentsAfterTraffic);
  if (options.traffic) {
    console.log('\nweft vs haproxy (same run):');
    for (const line of summary.lines) console.log(`   ${line}`);
  }
  const connTarget = idleConnsTarget(idleConns);
  const targets = connTarget ? { ...summary.targets, perOpenConnection: connTarget } : summary.targets;
  // Without traffic or idle pods, only the per-connection target has a value to judge.
  for (const [k, t] of Object.entries(targets)) if (t.met !== undefined || options.traffic) console.log(`   target ${k}: ${t.met === undefined ? 'n/a' : t.met ? 'met' : 'MISSED'} (${t.target}; ${t.value})`);
  if (options.traffic || memory) {
    console.log('\nwhere the time and memory go:');
    for (const line of analysis) console.log(`   - ${line}`);
  }

  const haproxyVersion = (spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0];
  const { out, ...settings } = options;
  const file = writeBenchResult(
    'l4-lab',
    {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, haproxy: haproxyVersion },
      settings: { ...settings, agentConnectionLimits: { perSource: process.env[ENV_MAX_CONNECTIONS_PER_SOURCE], perPod: process.env[ENV_MAX_CONNECTIONS_PER_POD] }, requestBytes: 128, topology: 'client pod on n1 → server pod on n2; haproxy pair in the n1/n2 node namespaces; idle pods on n3' },
      results,
      agentsAfterTrafficMiB: agentsAfterTraffic,
      memory,
      idleConnections: idleConns,
      profile,
      ratios: summary.ratios,
      targets,
      analysis,
      durationS: Math.round((Date.now() - t0) / 1000),
    },
    out,
  );
  progress(`wrote ${file}`);
  clearTimeout(abort);
}

/** The lab's state (and its logs) go with the teardown: show the ends of the mesh's logs first. */
function printLogTails(name: string): void {
  const dir = labPaths(name).logs;
  for (const f of ['control.log', 'agent-n1.log', 'agent-n2.log', 'agent-n3.log']) {
    if (!existsSync(join(dir, f))) continue;
    const lines = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-8);
    console.error(`--- ${f} (last ${lines.length} lines)\n${lines.map((l) => l.slice(0, 400)).join('\n')}`);
  }
}

try {
  await main();
} catch (err) {
  console.error(`l4-lab failed: ${(err as Error).stack ?? String(err)}`);
  if (labName) printLogTails(labName);
  process.exitCode = 1;
} finally {
  await cleanup();
}
