import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { stringify } from 'yaml';
import { loopbackDirectoryConfig, parseControlArgs } from '../../control/config.js';
import { startControl, type ControlProcess } from '../../control/main.js';
import { generateTokenKeyPair, mintToken } from '../../control/identity/tokens.js';
import type { SourceChange } from '../../control/sources/source.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { procStatus } from '../lib/proc-status.js';
import { writeBenchResult } from '../lib/results-file.js';
import { startKubeCluster, type KubeCluster } from './kube-cluster.js';

// libuv's pool (4 threads by default) runs WebCrypto (token checks; CSR checks and signing moved to
// node:crypto on the calling thread) and the directory source's file I/O; with 10 000 manifests a rescan
// once queued Certify behind thousands of stats (bench/control-scale: 14 → 46 certificates/s on a loaded
// 2-core machine with 32 threads). Only effective before the pool's first use, hence first in the module
// body; an explicit setting wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

// bench/control-scale (issue 6): 10 000 pods, 1 000 services, 100 simulated node agents (Watch
// streams in child processes, one TLS connection each, over real gRPC on loopback; see watchers.ts) against weft-control in this
// process (directory source, as in the lab). Measures, over ≥ 50 single-pod changes:
//   push: from the pod file's rename (kube: the pod patch request) to the LAST watcher's store holding the change (end to end), and
//         from the source's change event to the last watcher (the control plane's own share);
// RSS (peak and steady) and CPU of this process (the control plane; the driver is negligible), and
// certificates issued per second by IdentityService.Certify under concurrent clients.
// The baseline printed beside push latency is the loopback round trip of a Certify call (one RPC).
// Targets (issue 6, 2 cores): push p99 ≤ 100 ms, RSS ≤ 300 MB, ≥ 200 certificates/s.

// `--out FILE` writes the result there instead of bench/results/control-scale[-kube].json (trial and smoke
// runs). `--source kube` runs the same measurement with weft-control's Kubernetes source against a real
// etcd and kube-apiserver (kube-cluster.ts; needs the components scripts/install-tools builds) instead of
// the directory source: objects made through the API, changes as pod patches, Certify through TokenReview.
const { values: args } = parseArgs({ options: { out: { type: 'string' }, source: { type: 'string', default: 'dir' } } });
const out = args.out;
if (args.source !== 'dir' && args.source !== 'kube') throw new Error(`--source must be dir or kube, not ${args.source}`);
const SOURCE = args.source;
const PODS = Number(process.env.WEFT_BENCH_PODS ?? 10_000);
const SERVICES = Number(process.env.WEFT_BENCH_SERVICES ?? 1_000);
const WATCHERS = Number(process.env.WEFT_BENCH_WATCHERS ?? 100);
const CHANGES = Number(process.env.WEFT_BENCH_CHANGES ?? 60);
const CHILDREN = 4;
const NAMESPACES = 10;
const CERTIFY_SECONDS = Number(process.env.WEFT_BENCH_CERTIFY_S ?? 10);
const now = (): number => performance.timeOrigin + performance.now();
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function atomicWrite(file: string, text: string): Promise<void> {
  await writeFile(file + '.tmp', text);
  await rename(file + '.tmp', file);
}

function podDoc(i: number, extraLabels: Record<string, string> = {}): Record<string, unknown> {
  const ns = `ns-${i % NAMESPACES}`;
  const svc = Math.floor(i / NAMESPACES) % (SERVICES / NAMESPACES);
  const node = `n${(i % WATCHERS) + 1}`;
  const ip = `10.${244 + Math.floor(i / 65_000)}.${Math.floor(i / 250) % 256}.${(i % 250) + 2}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: ns, uid: `uid-${i}`, labels: { app: `svc-${svc}`, ...extraLabels } },
    spec: { nodeName: node, serviceAccountName: `sa-${svc}`, containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** The directory source's cluster: manifests, pods and minted tokens. Returns the pods directory. */
async function writeDirCluster(root: string, tokenDir: string): Promise<string> {
  const cluster = path.join(root, 'cluster');
  const manifests = path.join(cluster, 'manifests');
  const pods = path.join(cluster, 'pods');
  await mkdir(manifests, { recursive: true });
  await mkdir(pods, { recursive: true });
  // Written in batches as they are generated: holding all 12 000 documents (and their YAML) at once left
  // the driver's heap at ~145 MB RSS before weft-control even started, counted in the RSS measured here.
  const docs: [string, unknown][] = [];
  const flush = async (): Promise<void> => {
    await Promise.all(docs.map(([f, d]) => writeFile(f, stringify(d))));
    docs.length = 0;
  };
  docs.push([path.join(manifests, 'Namespace.weft-system.yaml'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } }]);
  for (let n = 0; n < NAMESPACES; n++) {
    docs.push([path.join(manifests, `Namespace.ns-${n}.yaml`), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, labels: { 'weft.dev/dataplane-mode': 'ambient' } } }]);
  }
  for (let s = 0; s < SERVICES; s++) {
    const ns = `ns-${s % NAMESPACES}`;
    const idx = Math.floor(s / NAMESPACES);
    docs.push([
      path.join(manifests, `Service.${ns}.svc-${idx}.yaml`),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${idx}`, namespace: ns },
        spec: { selector: { app: `svc-${idx}` }, clusterIP: `10.96.${Math.floor(s / 250)}.${(s % 250) + 2}`, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
    ]);
  }
  for (let i = 0; i < PODS; i++) {
    docs.push([path.join(pods, `ns-${i % NAMESPACES}.pod-${i}.yaml`), podDoc(i)]);
    if (docs.length >= 500) await flush();
  }
  const keys = await generateTokenKeyPair();
  for (let k = 1; k <= WATCHERS; k++) {
    const name = `agent-n${k}`;
    docs.push([
      path.join(pods, `weft-system.${name}.yaml`),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'weft-system', uid: `agent-uid-${k}` },
        spec: { nodeName: `n${k}`, serviceAccountName: 'weft-node-agent', containers: [{ name: 'agent', image: 'weft/node-agent' }] },
        status: { phase: 'Running', podIP: `172.30.0.${k}`, conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ]);
    await writeFile(
      path.join(tokenDir, `n${k}.token`),
      await mintToken(keys.privateKeyPem, { namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name, uid: `agent-uid-${k}` }, node: { name: `n${k}` } }),
    );
  }
  await flush();
  await writeFile(path.join(root, 'token.pub'), keys.publicKeyPem);
  return pods;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'weft-bctl-'));
  const children: ChildProcess[] = [];
  let control: ControlProcess | undefined;
  let kube: KubeCluster | undefined;
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  try {
    // ---- cluster state -------------------------------------------------------------------------
    const tokenDir = path.join(root, 'tokens');
    await mkdir(tokenDir);
    const tGen = Date.now();
    let benchUid = 'uid-0';
    let change: (seq: number) => Promise<void>;
    let populateMs: number | undefined;
    if (SOURCE === 'kube') {
      kube = await startKubeCluster(root, { pods: PODS, services: SERVICES, watchers: WATCHERS, namespaces: NAMESPACES }, tokenDir);
      benchUid = kube.populated.benchPod.uid;
      populateMs = kube.populated.createMs;
      change = kube.change;
      console.log(`cluster state: ${PODS} pods, ${SERVICES} services, ${WATCHERS} node agents through the API server (${kube.populated.requests} requests in ${populateMs} ms; ${Date.now() - tGen} ms with its start)`);
    } else {
      const pods = await writeDirCluster(root, tokenDir);
      change = (seq) => atomicWrite(path.join(pods, 'ns-0.pod-0.yaml'), stringify(podDoc(0, { 'bench-seq': String(seq) })));
      console.log(`cluster state: ${PODS} pods, ${SERVICES} services, ${WATCHERS} node agents (${Date.now() - tGen} ms to write; driver RSS ${Math.round(process.memoryUsage.rss() / 1e6)} MB)`);
    }

    // ---- control plane -------------------------------------------------------------------------
    const tStart = Date.now();
    // This measures signing capacity with a few callers at full speed: the per-caller limit is lifted.
    const certifyRateLimit = { burst: 1_000_000, ratePerSecond: 1_000_000 };
    // The Kubernetes source reads the default kubeconfig, as `weft-control --source kube` does outside a pod.
    if (kube) process.env.KUBECONFIG = kube.kubeconfig;
    const config = kube
      ? { ...(await parseControlArgs(['--source', 'kube', '--listen', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--health-address', '127.0.0.1:0', '--namespace', 'weft-system'])), certifyRateLimit }
      : loopbackDirectoryConfig(root, { certifyRateLimit });
    control = await startControl(config, silentLogger);
    const startupMs = Date.now() - tStart;
    const mb = (): string => `RSS ${Math.round(process.memoryUsage.rss() / 1e6)} MB, peak so far ${Math.round(peakRss / 1e6)} MB`;
    console.log(`weft-control synced and serving in ${startupMs} ms (${mb()})`);
    const caRootFile = path.join(root, 'ca-root.pem');
    await writeFile(caRootFile, control.ca.rootsPem.join(''));
    const address = `127.0.0.1:${control.grpcPort}`;

    // ---- watchers in child processes -----------------------------------------------------------
    const seen = new Map<number, Map<string, number>>(); // seq → node → first receive time
    const synced: Promise<void>[] = [];
    const childScript = path.join(here, 'watchers.js');
    const perChild = Math.ceil(WATCHERS / CHILDREN);
    const tWatch = Date.now();
    for (let c = 0; c < CHILDREN; c++) {
      const nodes = Array.from({ length: perChild }, (_, i) => c * perChild + i + 1).filter((k) => k <= WATCHERS).map((k) => `n${k}`);
      // With few watchers (a smoke run) the last children get none: such a child would never report synced.
      if (nodes.length === 0) continue;
      const child = fork(childScript, [JSON.stringify({ address, caRootFile, tokenDir, nodes, benchUid })], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      child.on('message', (m: { type: string; seq?: number; t?: number; node?: string }) => {
        if (m.type === 'seen') {
          let byNode = seen.get(m.seq!);
          if (!byNode) seen.set(m.seq!, (byNode = new Map<string, number>()));
          if (!byNode.has(m.node!)) byNode.set(m.node!, m.t!);
        }
      });
      synced.push(new Promise((resolve) => child.on('message', (m: { type: string }) => m.type === 'synced' && resolve())));
    }
    await Promise.all(synced);
    console.log(`${WATCHERS} watchers synced their snapshots in ${Date.now() - tWatch} ms (${mb()})`);

    // ---- push latency --------------------------------------------------------------------------
    const sourceAt = new Map<number, number>();
    control.source.on('change', (changes: readonly SourceChange[]) => {
      const t = now();
      for (const c of changes) {
        const seq = c.object.metadata.labels?.['bench-seq'];
        if (c.object.metadata.uid === benchUid && seq !== undefined && !sourceAt.has(Number(seq))) sourceAt.set(Number(seq), t);
      }
    });
    const endToEnd: number[] = [];
    const controlShare: number[] = [];
    const cpu0 = process.cpuUsage();
    const wall0 = now();
    let lost = 0;
    for (let seq = 1; seq <= CHANGES; seq++) {
      const t0 = now();
      await change(seq);
      const deadline = Date.now() + 5_000;
      while ((seen.get(seq)?.size ?? 0) < WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      const times = [...(seen.get(seq)?.values() ?? [])];
      if (times.length < WATCHERS) {
        lost++;
        continue;
      }
      const last = Math.max(...times);
      endToEnd.push(last - t0);
      const ts = sourceAt.get(seq);
      if (ts !== undefined) controlShare.push(last - ts);
      await new Promise((r) => setTimeout(r, 60)); // separate changes so each is its own push
    }
    const pushWall = now() - wall0;
    const pushCpu = process.cpuUsage(cpu0);
    const steadyRss = process.memoryUsage.rss();
    const steadyMemory = process.memoryUsage();
    const steadyHeap = steadyMemory.heapUsed;
    const steadyStatus = procStatus(['RssAnon', 'RssFile', 'RssShmem', 'Threads']);
    // WEFT_BENCH_HEAP_SNAPSHOT=<file>: where the steady-state memory goes (open in Chrome DevTools).
    if (process.env.WEFT_BENCH_HEAP_SNAPSHOT) console.log(`heap snapshot: ${writeHeapSnapshot(process.env.WEFT_BENCH_HEAP_SNAPSHOT)}`);

    // ---- certificates per second ---------------------------------------------------------------
    // Each child certifies identities of pods on its own nodes (what a node agent may ask for).
    const readyCertify: Promise<void>[] = [];
    for (let c = 0; c < children.length; c++) {
      const identities: Record<string, string[]> = {};
      for (let k = c * perChild + 1; k <= Math.min(WATCHERS, (c + 1) * perChild) && Object.keys(identities).length < 4; k++) {
        const ids: string[] = [];
        for (let i = k - 1; i < PODS && ids.length < 3; i += WATCHERS) {
          const d = podDoc(i) as { metadata: { namespace: string }; spec: { serviceAccountName: string } };
          ids.push(`spiffe://cluster.local/ns/${d.metadata.namespace}/sa/${d.spec.serviceAccountName}`);
        }
        identities[`n${k}`] = ids;
      }
      readyCertify.push(new Promise((resolve) => children[c].on('message', (m: { type: string }) => m.type === 'certify-ready' && resolve())));
      children[c].send({ type: 'certify-prepare', identities });
    }
    await Promise.all(readyCertify);
    const results: Promise<{ ok: number; failed: number }>[] = children.map(
      (child) => new Promise((resolve) => child.on('message', (m: { type: string; ok: number; failed: number }) => m.type === 'certified' && resolve(m))),
    );
    const certCpu0 = process.cpuUsage();
    const tCert = now();
    for (const child of children) child.send({ type: 'certify-go', seconds: CERTIFY_SECONDS, concurrency: 8 });
    const done = await Promise.all(results);
    const certWall = (now() - tCert) / 1000;
    const certCpu = process.cpuUsage(certCpu0);
    const issued = done.reduce((a, r) => a + r.ok, 0);
    const failed = done.reduce((a, r) => a + r.failed, 0);

    // ---- report --------------------------------------------------------------------------------
    const cpuPct = (u: NodeJS.CpuUsage, wallMs: number): number => Math.round(((u.user + u.system) / 1000 / wallMs) * 1000) / 10;
    const r = {
      source: SOURCE,
      ...(populateMs === undefined ? {} : { populateMs }),
      pods: PODS,
      services: SERVICES,
      watchers: WATCHERS,
      changes: CHANGES,
      lostChanges: lost,
      startupMs,
      pushEndToEndMs: { p50: pct(endToEnd, 50), p99: pct(endToEnd, 99), max: Math.max(...endToEnd) },
      pushFromSourceEventMs: { p50: pct(controlShare, 50), p99: pct(controlShare, 99), max: Math.max(...controlShare) },
      rssMb: { peak: Math.round(peakRss / 1e6), steady: Math.round(steadyRss / 1e6) },
      heapUsedMbSteady: Math.round(steadyHeap / 1e6),
      heapTotalMbSteady: Math.round(steadyMemory.heapTotal / 1e6),
      externalMbSteady: Math.round(steadyMemory.external / 1e6),
      // Where the RSS beyond the JS heap is: file-backed pages are mostly node's own binary; anonymous
      // pages beyond heapTotal + external are malloc's (freed but kept: see GLIBC_TUNABLES in the Dockerfile),
      // thread stacks and V8's non-heap spaces.
      rssBreakdownMbSteady: { anon: Math.round(steadyStatus.RssAnon / 1e3), file: Math.round(steadyStatus.RssFile / 1e3), shmem: Math.round(steadyStatus.RssShmem / 1e3) },
      threads: steadyStatus.Threads,
      cpuPercentDuringPushes: cpuPct(pushCpu, pushWall),
      certificatesPerSecond: Math.round(issued / certWall),
      certifyFailures: failed,
      cpuPercentDuringCertify: cpuPct(certCpu, certWall * 1000),
      // Control-plane CPU per issued certificate: comparable across runs even when other processes starve
      // this one (certificates/s is not, on a shared 2-core machine).
      controlCpuMsPerCertificate: issued > 0 ? Math.round(((certCpu.user + certCpu.system) / 1000 / issued) * 100) / 100 : NaN,
      targets: { pushP99Ms: 100, rssMb: 300, certificatesPerSecond: 200 },
    };
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    console.log('');
    console.log(`push, ${SOURCE === 'kube' ? 'pod patch' : 'file write'} → last of ${WATCHERS} watchers: p50 ${r.pushEndToEndMs.p50.toFixed(1)} ms, p99 ${r.pushEndToEndMs.p99.toFixed(1)} ms  (target p99 ≤ 100 ms: ${verdict(r.pushEndToEndMs.p99 <= 100)})`);
    console.log(`push, source event → last watcher:      p50 ${r.pushFromSourceEventMs.p50.toFixed(1)} ms, p99 ${r.pushFromSourceEventMs.p99.toFixed(1)} ms  (the control plane's share; includes the 20 ms debounce)`);
    console.log(`RSS: peak ${r.rssMb.peak} MB, steady ${r.rssMb.steady} MB, JS heap ${r.heapUsedMbSteady} MB  (target ≤ 300 MB: ${verdict(r.rssMb.peak <= 300)})`);
    console.log(`CPU: ${r.cpuPercentDuringPushes}% of one core during pushes, ${r.cpuPercentDuringCertify}% during certify`);
    console.log(`certificates: ${r.certificatesPerSecond}/s (${issued} in ${certWall.toFixed(1)} s, ${failed} failed, ${r.controlCpuMsPerCertificate} ms control CPU each)  (target ≥ 200/s: ${verdict(r.certificatesPerSecond >= 200)})`);
    console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores (timings are only comparable on a quiet machine)`);
    if (lost > 0) console.log(`WARNING: ${lost} changes did not reach every watcher within 5 s`);
    console.log(`wrote ${path.relative(repo, writeBenchResult('control-scale', r, out ?? (SOURCE === 'kube' ? path.join(repo, 'bench', 'results', 'control-scale-kube.json') : undefined)))}`);
  } finally {
    clearInterval(rssTimer);
    for (const c of children) {
      if (c.connected) c.send({ type: 'exit' });
      setTimeout(() => c.kill('SIGKILL'), 2_000).unref();
    }
    await control?.close();
    await kube?.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
