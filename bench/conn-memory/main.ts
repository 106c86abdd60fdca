// `npm run bench -- conn-memory [--conns 1000,5000] [--settle 60] [--load-seconds 10] [--variant <name>=<dist dir>[,<node flag>|<ENV=value>...]]... [--out <file>]`
//
// Memory of the HBONE data path per open idle connection and after load, on loopback, with the roles of
// bench/hbone-loopback (weft-client: the source node agent's pool + pipe; weft-server: the destination
// agent's HBONE server + pipe to the app) each in its own process:
//   1. idle: both roles started, one warm-up tunnel opened and closed;
//   2. N idle connections (each sends 128 bytes and reads the echo, then stays open) for each N of --conns;
//      per connection = slope from idle to the largest N;
//   3. all closed, then load: --load-seconds (10) at max rps over 32 connections, half that of one-stream bulk;
//   4. --settle seconds (default 60) after the load stopped.
// Each point: VmRSS as it is, then after a forced GC VmRSS, heapUsed, external, arrayBuffers (the roles
// answer `mem` on stdin, bench/lib/memory-probe.ts). The "back after load" goal is read on VmRSS as it is
// (no forced GC: that is what the kubelet sees). Each `--variant` runs the same steps against a build's roles
// (its dist directory, e.g. a copy of the dist before a change) with extra node flags and environment, one
// after the other in one run, for before/after of a change; without one, this build's roles run as they are.
// Writes bench/results/conn-memory.json (or --out) with the load average before and after.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeBenchPki } from '../lib/pki-files.js';
import { writeBenchResult } from '../lib/results-file.js';
import { stopChild } from '../lib/stop-child.js';
import { BACKEND, LOADGEN } from '../lib/child-scripts.js';
import { closeAll, openIdle, openMany } from '../lib/idle-connections.js';

const here = dirname(fileURLToPath(import.meta.url));
const ownDist = resolve(here, '..', '..');

interface Variant {
  name: string;
  dist: string;
  nodeFlags: string[];
  env: Record<string, string>;
}

const USAGE = 'usage: npm run bench -- conn-memory [--conns 1000,5000] [--settle 60] [--load-seconds 10] [--variant <name>=<dist dir>[,<node flag>|<ENV=value>...]]... [--out <file>]';

function parseVariant(spec: string): Variant {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${spec}: expected <name>=<dist dir>[,...]; ${USAGE}`);
  const [dist, ...extra] = spec.slice(eq + 1).split(',');
  const v: Variant = { name: spec.slice(0, eq), dist: resolve(dist || ownDist), nodeFlags: [], env: {} };
  for (const x of extra) {
    if (x.startsWith('--')) v.nodeFlags.push(x);
    else if (/^[A-Z_][A-Z0-9_]*=/.test(x)) v.env[x.slice(0, x.indexOf('='))] = x.slice(x.indexOf('=') + 1);
    else throw new Error(`--variant ${spec}: ${x} is neither a node flag (--...) nor ENV=value`);
  }
  return v;
}

interface Options {
  conns: number[];
  settleSeconds: number;
  loadSeconds: number;
  variants: Variant[];
  out: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { conns: [1000, 5000], settleSeconds: 60, loadSeconds: 10, variants: [], out: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--conns') o.conns = v.split(',').map(Number);
    else if (argv[i] === '--settle') o.settleSeconds = Number(v);
    else if (argv[i] === '--out') o.out = v;
    else if (argv[i] === '--load-seconds') o.loadSeconds = Number(v);
    else if (argv[i] === '--variant') o.variants.push(parseVariant(v));
    else {
      console.error(USAGE);
      process.exit(2);
    }
  }
  if (o.variants.length === 0) o.variants.push({ name: 'current', dist: ownDist, nodeFlags: [], env: {} });
  return o;
}

interface Role {
  child: ChildProcess;
  ready: Record<string, unknown>;
  /** Sends a line to the role and resolves with the payload of its next line starting with `tag`. */
  ask(line: string, tag: string): Promise<string>;
}

const children = new Set<ChildProcess>();

function startRole(script: string, args: string[], probe: Variant | undefined): Promise<Role> {
  const child = spawn(process.execPath, [...(probe ? ['--expose-gc', ...probe.nodeFlags] : []), script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(probe ? { ...probe.env, WEFT_BENCH_MEMORY_PROBE: '1' } : {}) },
  });
  children.add(child);
  let out = '';
  let err = '';
  const waiters: { tag: string; resolve(v: string): void }[] = [];
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolveRole, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after 20 s: ${err}`)), 20_000);
    let role: Role | undefined;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const sp = line.indexOf(' ');
        const tag = line.slice(0, sp);
        if (tag === 'READY' && role === undefined) {
          clearTimeout(timer);
          role = {
            child,
            ready: JSON.parse(line.slice(sp + 1)) as Record<string, unknown>,
            ask: (cmd, want) =>
              new Promise((r) => {
                waiters.push({ tag: want, resolve: r });
                child.stdin.write(`${cmd}\n`);
              }),
          };
          resolveRole(role);
        } else {
          const i = waiters.findIndex((w) => w.tag === tag);
          if (i >= 0) waiters.splice(i, 1)[0].resolve(line.slice(sp + 1));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${err}`));
    });
  });
}

interface Memory {
  vmRssBeforeGc: number;
  vmRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

const MIB = 1048576;
const mib = (b: number): number => Math.round((b / MIB) * 10) / 10;

async function memoryOf(role: Role): Promise<Memory> {
  return JSON.parse(await role.ask('mem', 'MEM')) as Memory;
}

function inMiB(m: Memory): Record<string, number> {
  return Object.fromEntries(Object.entries(m as unknown as Record<string, number>).filter(([k]) => k !== 'rss').map(([k, v]) => [k, mib(v)]));
}

function loadgen(mode: string, port: number, args: Record<string, number | string>): Promise<Record<string, unknown>> {
  const argv = [LOADGEN, mode, '--port', String(port), '--warmup', '0'];
  for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((r, reject) =>
    child.once('exit', (code) => (code === 0 ? r(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>) : reject(new Error(`loadgen ${mode} exited ${code}`)))),
  );
}

type Point = Record<string, unknown>;

async function scenario(build: Variant, pki: string, backend: { echo: number; sink: number }): Promise<Record<string, unknown>> {
  console.log(`-- ${build.name} (${build.dist} ${[...build.nodeFlags, ...Object.entries(build.env).map(([k, v]) => `${k}=${v}`)].join(' ')})`);
  const roles = join(build.dist, 'bench', 'hbone-loopback');
  const server = await startRole(join(roles, 'weft-server.js'), [pki], build);
  const client = await startRole(join(roles, 'weft-client.js'), [pki, String(server.ready.port), String(backend.echo), String(backend.sink)], build);
  const [echoPort, sinkPort] = client.ready.ports as number[];
  const points: Point[] = [];
  const measure = async (label: string, conns: number): Promise<{ client: Memory; server: Memory }> => {
    await sleep(2000);
    const m = { client: await memoryOf(client), server: await memoryOf(server) };
    points.push({ label, conns, client: inMiB(m.client), server: inMiB(m.server) });
    console.log(`   ${label.padEnd(22)} client VmRSS ${mib(m.client.vmRssBeforeGc)} MiB (${mib(m.client.vmRss)} after GC, heap ${mib(m.client.heapUsed)})  server VmRSS ${mib(m.server.vmRssBeforeGc)} MiB (${mib(m.server.vmRss)} after GC, heap ${mib(m.server.heapUsed)})`);
    return m;
  };
  try {
    await closeAll([await openIdle('127.0.0.1', echoPort)]);
    const idle = await measure('idle', 0);
    const sockets: Socket[] = [];
    let last = idle;
    let lastN = 0;
    for (const n of options.conns) {
      await openMany('127.0.0.1', echoPort, n, sockets);
      last = await measure(`${n} idle connections`, n);
      lastN = n;
    }
    const per = (role: 'client' | 'server'): Record<string, number> =>
      Object.fromEntries((['vmRss', 'heapUsed', 'external', 'arrayBuffers'] as const).map((k) => [k, Math.round((last[role][k] - idle[role][k]) / lastN)]));
    const perConnectionBytes = { client: per('client'), server: per('server') };
    console.log(`   per connection (bytes, after GC): client ${JSON.stringify(perConnectionBytes.client)}  server ${JSON.stringify(perConnectionBytes.server)}`);
    await closeAll(sockets);
    await measure('connections closed', 0);
    const maxrps = await loadgen('maxrps', echoPort, { seconds: options.loadSeconds, conns: 32 });
    const bulk = await loadgen('bulk', sinkPort, { seconds: Math.max(1, Math.round(options.loadSeconds / 2)), unit: 'gbit' });
    const loadEnd = Date.now();
    // Right after the load, no settle wait; the GC'd values say how much of the RSS was garbage.
    const justAfter = { client: await memoryOf(client), server: await memoryOf(server) };
    points.push({ label: 'load just stopped', conns: 0, client: inMiB(justAfter.client), server: inMiB(justAfter.server) });
    console.log(`   load just stopped       client VmRSS ${mib(justAfter.client.vmRssBeforeGc)} MiB  server VmRSS ${mib(justAfter.server.vmRssBeforeGc)} MiB`);
    await sleep(Math.max(0, options.settleSeconds * 1000 - (Date.now() - loadEnd) - 2000));
    const settled = await measure(`${options.settleSeconds} s after load`, 0);
    const ratio = (role: 'client' | 'server'): number => Math.round((settled[role].vmRssBeforeGc / idle[role].vmRssBeforeGc) * 100) / 100;
    const afterLoadRatio = { client: ratio('client'), server: ratio('server') };
    console.log(`   VmRSS ${options.settleSeconds} s after load / idle (no forced GC): client ${afterLoadRatio.client}×  server ${afterLoadRatio.server}×`);
    return { dist: build.dist, nodeFlags: build.nodeFlags, env: build.env, points, perConnectionBytes, afterLoadRatio, load: { maxrps: maxrps.rps, bulkGbitPerS: bulk.gbitPerS } };
  } finally {
    await stopChild(client.child);
    await stopChild(server.child);
    children.delete(client.child);
    children.delete(server.child);
  }
}

const options = parseOptions(process.argv.slice(2));

async function main(): Promise<void> {
  const pki = mkdtempSync(join(tmpdir(), 'weft-bcm-'));
  try {
    await writeBenchPki(pki, { commonName: 'weft bench root', namespace: 'bench' });
    const backend = await startRole(BACKEND, [], undefined);
    const results: Record<string, unknown> = {};
    for (const b of options.variants) results[b.name] = await scenario(b, pki, backend.ready as { echo: number; sink: number });
    await stopChild(backend.child);
    const file = writeBenchResult(
      'conn-memory',
      {
        settings: { conns: options.conns, settleSeconds: options.settleSeconds, requestBytes: 128, load: `maxrps ${options.loadSeconds} s over 32 connections, then bulk ${Math.max(1, Math.round(options.loadSeconds / 2))} s` },
        goals: { perConnectionBytes: '≤ 4096 per open connection (VmRSS slope after GC)', afterLoad: `VmRSS ${options.settleSeconds} s after load ≤ 1.2 × idle` },
        results,
      },
      options.out,
    );
    console.log(`wrote ${file}`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(pki, { recursive: true, force: true });
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  });

await main();
