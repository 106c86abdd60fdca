// `npm run bench -- hbone-loopback [--seconds 8] [--warmup 1] [--only direct,weft,haproxy] [--profile <dir>] [--no-pin] [--out <file>]`
//
// One run, three topologies on loopback, the same backend and load generator (bench/lib/):
//   direct   loadgen → backend
//   weft     loadgen → weft client (TCP listener, a tunnel from the pool per connection)
//                    → HBONE (HTTP/2 CONNECT, mTLS 1.3) → weft server → backend
//   haproxy  loadgen → haproxy (TCP frontend, mTLS to the server side) → haproxy (mTLS frontend) → backend
// Four phases each: p50/p99 at a fixed 1 000 rps over keep-alive connections, max rps (32 connections,
// closed loop), one-stream bulk throughput, and last p50/p99 at 500 new connections/s.
//
// Fairness on 2 cores: the load generator runs as its own process pinned to CPU 1 (`taskset -c 1`); both
// proxies of a topology and the backend are pinned to CPU 0, so each topology's proxies share one core
// and pay for all their work on it (`--no-pin` lets the kernel place them, e.g. on a machine busy with
// other work, where a pinned process waits for its one core). Each haproxy runs with `nbthread 1` (Node is single-threaded). haproxy
// checks the peer chain against the CA but cannot check a URI SAN; weft also checks the SPIFFE ID.
// Writes bench/results/hbone-loopback.json (or --out).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haproxyPairConfigs } from '../lib/haproxy-config.js';
import { writeBenchPki } from '../lib/pki-files.js';
import { writeBenchResult } from '../lib/results-file.js';
import { stopChild } from '../lib/stop-child.js';
import { BACKEND, LOADGEN } from '../lib/child-scripts.js';
import { freePort } from '../lib/free-port.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Options {
  seconds: number;
  warmup: number;
  only: string[];
  profile: string | undefined;
  pin: boolean;
  out: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { seconds: 8, warmup: 1, only: ['direct', 'weft', 'haproxy'], profile: undefined, pin: true, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--seconds': o.seconds = Number(v); i++; break;
      case '--warmup': o.warmup = Number(v); i++; break;
      case '--only': o.only = v.split(','); i++; break;
      case '--profile': o.profile = v; i++; break;
      case '--no-pin': o.pin = false; break;
      case '--out': o.out = v; i++; break;
      case '--help':
        console.log('usage: npm run bench -- hbone-loopback [--seconds 8] [--warmup 1] [--only direct,weft,haproxy] [--profile <dir>] [--no-pin] [--out <file>]');
        process.exit(0);
      // falls through
      default:
        console.error(`unknown option ${argv[i]}`);
        process.exit(2);
    }
  }
  return o;
}

const options = parseOptions(process.argv.slice(2));
const pinnable = options.pin && spawnSync('taskset', ['-c', '0', 'true']).status === 0 && cpus().length >= 2;
const children = new Set<ChildProcess>();

function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return pinnable ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Starts a bench role (a compiled .js script) and waits for its `READY <json>` line. */
function startRole<T>(script: string, args: string[], nodeFlags: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const [cmd, argv] = pinned(0, process.execPath, [...nodeFlags, script, ...args]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${script} not ready after 20 s: ${err}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, ready: JSON.parse(m[1]) as T });
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${err}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  await stopChild(child);
  children.delete(child);
}

type PhaseResult = Record<string, number | string>;

function loadgen(mode: string, port: number, extra: Record<string, number | string>): Promise<PhaseResult> {
  const args = ['--port', String(port), '--seconds', String(options.seconds), '--warmup', String(options.warmup)];
  for (const [k, v] of Object.entries(extra)) args.push(`--${k}`, String(v));
  const [cmd, argv] = pinned(1, process.execPath, [LOADGEN, mode, ...args]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + options.warmup + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (code !== 0) reject(new Error(`loadgen ${mode} failed (${code}): ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as PhaseResult);
    });
  });
}

async function phases(name: string, echoPort: number, sinkPort: number): Promise<Record<string, PhaseResult>> {
  console.log(`-- ${name}`);
  const out: Record<string, PhaseResult> = {};
  out.keepalive1000 = await loadgen('latency', echoPort, { rps: 1000, conns: 10 });
  console.log(`   1000 rps keep-alive   p50 ${out.keepalive1000.p50Ms} ms  p99 ${out.keepalive1000.p99Ms} ms  (${out.keepalive1000.count} req, ${out.keepalive1000.errors} errors)`);
  out.maxrps = await loadgen('maxrps', echoPort, { conns: 32 });
  console.log(`   max rps (32 conns)    ${out.maxrps.rps} rps  p50 ${out.maxrps.p50Ms} ms  p99 ${out.maxrps.p99Ms} ms`);
  out.bulk = await loadgen('bulk', sinkPort, { unit: 'gbit' });
  console.log(`   bulk, one stream      ${out.bulk.gbitPerS} Gbit/s`);
  // Last: a proxy that cannot keep up with 500 handshakes/s is still working off its backlog afterwards,
  // which would spoil any phase after this one.
  out.newconn500 = await loadgen('connrate', echoPort, { rate: 500 });
  console.log(`   500 new conn/s        p50 ${out.newconn500.p50Ms} ms  p99 ${out.newconn500.p99Ms} ms  (${out.newconn500.count} conns, ${out.newconn500.errors} errors)`);
  return out;
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

function startHaproxy(cfg: string): ChildProcess {
  const [cmd, argv] = pinned(0, 'haproxy', ['-db', '-f', cfg]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`haproxy ${cfg} exited with ${code}: ${err}`);
  });
  return child;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bhb-'));
  try {
    await writeBenchPki(dir, { commonName: 'weft bench root', namespace: 'bench' });

    console.log(`hbone-loopback: ${options.seconds} s per phase (+${options.warmup} s warm-up), ${pinnable ? 'proxies+backend on CPU 0, load generator on CPU 1' : 'no CPU pinning (taskset missing or 1 CPU)'}`);
    const backend = await startRole<{ echo: number; sink: number }>(BACKEND, []);
    const results: Record<string, Record<string, PhaseResult>> = {};

    if (options.only.includes('direct')) results.direct = await phases('direct TCP', backend.ready.echo, backend.ready.sink);

    if (options.only.includes('weft')) {
      const prof = options.profile ? ['--cpu-prof', '--cpu-prof-dir', options.profile] : [];
      if (options.profile) mkdirSync(options.profile, { recursive: true });
      const server = await startRole<{ port: number }>(join(here, 'weft-server.js'), [dir], prof);
      const client = await startRole<{ ports: number[] }>(join(here, 'weft-client.js'), [dir, String(server.ready.port), String(backend.ready.echo), String(backend.ready.sink)], prof);
      try {
        results.weft = await phases('weft HBONE', client.ready.ports[0], client.ready.ports[1]);
      } finally {
        await stop(client.child);
        await stop(server.child);
      }
    }

    let haproxyVersion = '';
    if (options.only.includes('haproxy')) {
      haproxyVersion = (spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0];
      const ports = { sEcho: await freePort(), sSink: await freePort(), cEcho: await freePort(), cSink: await freePort() };
      const local = (port: number): string => `127.0.0.1:${port}`;
      const cfg = haproxyPairConfigs(dir, {
        clientEcho: local(ports.cEcho),
        clientSink: local(ports.cSink),
        tlsEcho: local(ports.sEcho),
        tlsSink: local(ports.sSink),
        backendEcho: local(backend.ready.echo),
        backendSink: local(backend.ready.sink),
      });
      writeFileSync(join(dir, 'haproxy-server.cfg'), cfg.server);
      writeFileSync(join(dir, 'haproxy-client.cfg'), cfg.client);
      const hs = startHaproxy(join(dir, 'haproxy-server.cfg'));
      const hc = startHaproxy(join(dir, 'haproxy-client.cfg'));
      try {
        for (const p of Object.values(ports)) await waitListening(p);
        results.haproxy = await phases('haproxy mTLS', ports.cEcho, ports.cSink);
      } finally {
        await stop(hc);
        await stop(hs);
      }
    }
    await stop(backend.child);

    const report = summarize(results);
    const file = writeBenchResult(
      'hbone-loopback',
      {
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, haproxy: haproxyVersion, pinned: pinnable },
        settings: { secondsPerPhase: options.seconds, warmupSeconds: options.warmup, requestBytes: 128, keepaliveConnections: 10, maxrpsConnections: 32 },
        results,
        ...report,
      },
      options.out,
    );
    console.log(`wrote ${file}`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function num(r: PhaseResult | undefined, k: string): number {
  return r === undefined ? NaN : Number(r[k]);
}

function summarize(results: Record<string, Record<string, PhaseResult>>): { ratios: Record<string, number>; targets: Record<string, { target: string; value: number; met: boolean }> } {
  const d = results.direct, w = results.weft, h = results.haproxy;
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const addedP99W = num(w?.keepalive1000, 'p99Ms') - num(d?.keepalive1000, 'p99Ms');
  const addedP99H = num(h?.keepalive1000, 'p99Ms') - num(d?.keepalive1000, 'p99Ms');
  const ratios = {
    keepaliveP50: r2(num(w?.keepalive1000, 'p50Ms') / num(h?.keepalive1000, 'p50Ms')),
    keepaliveP99: r2(num(w?.keepalive1000, 'p99Ms') / num(h?.keepalive1000, 'p99Ms')),
    addedP99: r2(addedP99W / addedP99H),
    newConnP50: r2(num(w?.newconn500, 'p50Ms') / num(h?.newconn500, 'p50Ms')),
    newConnP99: r2(num(w?.newconn500, 'p99Ms') / num(h?.newconn500, 'p99Ms')),
    maxRps: r2(num(w?.maxrps, 'rps') / num(h?.maxrps, 'rps')),
    bulkThroughput: r2(num(w?.bulk, 'gbitPerS') / num(h?.bulk, 'gbitPerS')),
  };
  const targets = {
    addedP99: { target: 'weft added p99 ≤ haproxy added p99 (1000 rps keep-alive)', value: r2(addedP99W), met: addedP99W <= addedP99H },
    newConnP50: { target: 'weft new-connection p50 ≤ 0.5 × haproxy', value: ratios.newConnP50, met: ratios.newConnP50 <= 0.5 },
    bulkThroughput: { target: 'weft bulk throughput ≥ 1.0 × haproxy', value: ratios.bulkThroughput, met: ratios.bulkThroughput >= 1.0 },
  };
  console.log('\nweft / haproxy:');
  console.log(`   keep-alive p50 ${ratios.keepaliveP50}×, p99 ${ratios.keepaliveP99}×; added p99 weft ${r2(addedP99W)} ms vs haproxy ${r2(addedP99H)} ms`);
  console.log(`   new-connection p50 ${ratios.newConnP50}×, p99 ${ratios.newConnP99}×`);
  console.log(`   max rps ${ratios.maxRps}×, bulk ${ratios.bulkThroughput}×`);
  for (const [k, t] of Object.entries(targets)) console.log(`   target ${k}: ${t.met ? 'met' : 'MISSED'} (${t.target}; ${t.value})`);
  return { ratios, targets };
}

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  });

await main();
