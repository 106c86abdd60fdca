// bench/waypoint: the same client → proxy → backend path through weft-waypoint and through haproxy in
// HTTP mode with the same route (PathPrefix /bench → one backend), in the same run. Reports requests/s at
// saturation and p50/p99 at a fixed rate, their ratios, and writes bench/results/waypoint.json.
// Targets (issue 7): waypoint rps ≥ 0.7× haproxy, waypoint p99 ≤ 1.5× haproxy.
// Both proxies get one core's worth of work (haproxy nbthread 1, Node's one event loop); the backend is a
// haproxy `http-request return` (cheap, shared by both); the client is h2load (HTTP/1.1).
// `--baseline-dist DIR` adds a third contender in the same rounds: the waypoint of another build (DIR is
// that checkout's dist/), for before/after comparisons of a change (ratios under `vsBaseline`).
// Upstream connection reuse: each contender has its own backend frontend; the backend's stats socket says
// how many connections it accepted for how many requests (`upstreamReuse` = 1 − connections/requests).
// `--out FILE` writes the result there instead of bench/results/waypoint.json (trial and smoke runs).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { writeBenchResult } from '../lib/results-file.js';
import { freePort } from '../lib/free-port.js';

const here = dirname(fileURLToPath(import.meta.url));
const waypointMain = join(here, '..', '..', 'waypoint', 'main.js');
const { values: args } = parseArgs({ options: { 'baseline-dist': { type: 'string' }, out: { type: 'string' } } });
const baselineMain = args['baseline-dist'] ? join(resolve(args['baseline-dist']), 'waypoint', 'main.js') : undefined;
if (baselineMain && !existsSync(baselineMain)) {
  console.error(`--baseline-dist: ${baselineMain} is missing: build that checkout first (npm run build)`);
  process.exit(2);
}

const SATURATION_S = Number(process.env.WEFT_BENCH_SATURATION_S ?? 10);
const FIXED_S = Number(process.env.WEFT_BENCH_FIXED_S ?? 10);
// Rounds alternate haproxy and the waypoint, so that load from elsewhere on a shared machine falls on both;
// each round runs SATURATION_S / ROUNDS and FIXED_S / ROUNDS seconds; rps is the median round.
const ROUNDS = Number(process.env.WEFT_BENCH_ROUNDS ?? 3);
const SAT_CONNECTIONS = 32;
const FIXED_CLIENTS = 10;
const FIXED_RPS_PER_CLIENT = 100; // 1 000 requests/s in total
// Extra Node flags for the waypoint process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/x` to profile it.
const WAYPOINT_NODE_ARGS = (process.env.WEFT_BENCH_WAYPOINT_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function h2load(args: string[]): string {
  return execFileSync('h2load', ['--h1', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** CPU time (user + system) a process has used, in µs, from /proc (clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime, stime
}

/**
 * Requests/s at saturation, and the proxy's CPU time per request over that run: on a shared, loaded
 * machine rps follows the CPU share a process gets, while CPU per request is what the proxy costs.
 */
function saturation(url: string, proxyPid: number): { rps: number; cpuUsPerRequest: number } {
  h2load(['-c', String(SAT_CONNECTIONS), '-t', '1', '-D', '2', url]); // warm-up
  const cpu0 = cpuUs(proxyPid);
  const out = h2load(['-c', String(SAT_CONNECTIONS), '-t', '1', '-D', String(Math.max(1, Math.round(SATURATION_S / ROUNDS))), url]);
  const cpu = cpuUs(proxyPid) - cpu0;
  const m = /finished in [^,]+, ([\d.]+) req\/s/.exec(out);
  const ok = /status codes: (\d+) 2xx/.exec(out);
  if (!m || !ok || Number(ok[1]) === 0) throw new Error(`h2load output not understood:\n${out}`);
  return { rps: Number(m[1]), cpuUsPerRequest: cpu / Number(ok[1]) };
}

/** One fixed-rate round; its latencies are added to `lat`. */
function fixedRate(url: string, logFile: string, lat: number[]): number {
  rmSync(logFile, { force: true }); // h2load appends
  h2load(['-c', String(FIXED_CLIENTS), '-t', '1', '--rps', String(FIXED_RPS_PER_CLIENT), '-D', String(Math.max(1, Math.round(FIXED_S / ROUNDS))), '--log-file', logFile, url]);
  let non2xx = 0;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const [, status, us] = line.split('\t');
    if (!status) continue;
    if (!status.startsWith('2')) non2xx++;
    lat.push(Number(us) / 1000);
  }
  return non2xx;
}

function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 3_000).unref();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bwp-'));
  const procs: ChildProcess[] = [];
  try {
    // One backend frontend per contender, so that its connections and requests are counted apart
    // (upstream connection reuse, read from the backend's stats socket at the end).
    const contenders = ['haproxy', 'waypoint', ...(baselineMain ? ['baseline'] : [])];
    const backendPorts = new Map<string, number>();
    for (const name of contenders) backendPorts.set(name, await freePort());
    const haproxyPort = await freePort();
    const waypointPort = await freePort();
    const statsSocket = join(dir, 'backend-stats.sock');
    // The backend: a haproxy answering 200 "ok" itself.
    writeFileSync(
      join(dir, 'backend.cfg'),
      `global\n  nbthread 1\n  maxconn 4000\n  stats socket ${statsSocket}\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n` +
        contenders.map((name) => `frontend backend-${name}\n  bind 127.0.0.1:${backendPorts.get(name)}\n  http-request return status 200 content-type text/plain string ok\n`).join(''),
    );
    // The baseline proxy: the same route in haproxy's words.
    writeFileSync(
      join(dir, 'proxy.cfg'),
      `global\n  nbthread 1\n  maxconn 4000\ndefaults\n  mode http\n  option http-keep-alive\n  http-reuse always\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend web\n  bind 127.0.0.1:${haproxyPort}\n  acl bench path /bench\n  acl bench path_beg /bench/\n  use_backend web if bench\n  http-request return status 404 if !bench\nbackend web\n  server b1 127.0.0.1:${backendPorts.get('haproxy')}\n`,
    );
    const waypointConfig = (name: string): string => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        stringify({
          workloads: [{ uid: 'backend-1', name: 'backend-1', namespace: 'bench', serviceAccount: 'backend', ips: ['127.0.0.1'] }],
          services: [
            {
              namespace: 'bench',
              name: 'web',
              vips: ['10.96.0.1'],
              ports: [{ name: 'http', port: 80, targetPort: backendPorts.get(name)! }],
              endpoints: [{ workloadUid: 'backend-1', address: '127.0.0.1' }],
              waypoint: { namespace: 'bench', name: 'waypoint', address: '127.0.0.1', identity: 'spiffe://cluster.local/ns/bench/sa/waypoint' },
            },
          ],
          routes: [
            {
              kind: 'HTTPRoute',
              namespace: 'bench',
              name: 'web',
              parents: [{ namespace: 'bench', name: 'web' }],
              rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/bench' } }], backendRefs: [{ service: { namespace: 'bench', name: 'web' }, port: 80 }] }],
            },
          ],
        }),
      );
      return file;
    };
    procs.push(spawn('haproxy', ['-f', join(dir, 'backend.cfg'), '-db'], { stdio: 'ignore' }));
    procs.push(spawn('haproxy', ['-f', join(dir, 'proxy.cfg'), '-db'], { stdio: 'ignore' }));
    const startWaypoint = async (name: string, main: string, port: number): Promise<ChildProcess> => {
      const [admin, metrics, health] = [await freePort(), await freePort(), await freePort()];
      const child = spawn(
        process.execPath,
        [
          ...WAYPOINT_NODE_ARGS,
          main,
          '--gateway', 'bench/waypoint',
          '--local-config', waypointConfig(name),
          '--plain-listen', `127.0.0.1:${port}=10.96.0.1:80`,
          '--access-log=false',
          '--log-level', 'warn',
          '--admin-address', `127.0.0.1:${admin}`,
          '--metrics-address', `127.0.0.1:${metrics}`,
          '--health-address', `127.0.0.1:${health}`,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      procs.push(child);
      return child;
    };
    const waypoint = await startWaypoint('waypoint', waypointMain, waypointPort);
    const baselinePort = baselineMain ? await freePort() : 0;
    const baseline = baselineMain ? await startWaypoint('baseline', baselineMain, baselinePort) : undefined;
    await Promise.all([...[...backendPorts.values()].map((p) => waitPort(p)), waitPort(haproxyPort), waitPort(waypointPort), ...(baseline ? [waitPort(baselinePort)] : [])]);

    const results: Record<string, { rps: number; rpsRounds: number[]; cpuUsPerRequest: number; p50Ms: number; p99Ms: number; p50MsRounds: number[]; fixedRequests: number; non2xx: number; upstreamConnections: number; upstreamRequests: number; upstreamReuse: number }> = {};
    const proxies: (readonly [string, number, number])[] = [
      ['haproxy', haproxyPort, procs[1].pid!],
      ['waypoint', waypointPort, waypoint.pid!],
      ...(baseline ? [['baseline', baselinePort, baseline.pid!] as const] : []),
    ];
    const acc = new Map(proxies.map(([name]) => [name, { rps: [] as number[], cpu: [] as number[], lat: [] as number[], p50: [] as number[], non2xx: 0 }]));
    for (let i = 0; i < ROUNDS; i++) {
      // Every other round in reverse order: no contender always runs right after the same one.
      for (const [name, port, pid] of i % 2 === 0 ? proxies : [...proxies].reverse()) {
        const a = acc.get(name)!;
        const url = `http://127.0.0.1:${port}/bench/x`;
        const s = saturation(url, pid);
        a.rps.push(Math.round(s.rps));
        a.cpu.push(s.cpuUsPerRequest);
        const lat: number[] = [];
        a.non2xx += fixedRate(url, join(dir, `${name}.log`), lat);
        a.p50.push(round(quantile(lat.sort((x, y) => x - y), 0.5)));
        a.lat.push(...lat);
      }
    }
    const upstream = await backendStats(statsSocket);
    for (const [name] of proxies) {
      const a = acc.get(name)!;
      const u = upstream.get(`backend-${name}`) ?? { connections: NaN, requests: NaN };
      const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      a.lat.sort((x, y) => x - y);
      const r = { rps: median(a.rps), rpsRounds: a.rps, cpuUsPerRequest: round(median(a.cpu)), p50Ms: round(quantile(a.lat, 0.5)), p99Ms: round(quantile(a.lat, 0.99)), p50MsRounds: a.p50, fixedRequests: a.lat.length, non2xx: a.non2xx, upstreamConnections: u.connections, upstreamRequests: u.requests, upstreamReuse: Math.round((1 - u.connections / u.requests) * 10_000) / 10_000 };
      results[name] = r;
      console.log(`${name.padEnd(9)} saturation ${r.rps} req/s (rounds ${r.rpsRounds.join(', ')}; ${r.cpuUsPerRequest} µs CPU/request); at ${FIXED_CLIENTS * FIXED_RPS_PER_CLIENT} req/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms (${r.fixedRequests} requests, ${r.non2xx} non-2xx; rounds p50 ${r.p50MsRounds.join(', ')}); upstream ${r.upstreamConnections} connections for ${r.upstreamRequests} requests (reuse ${r.upstreamReuse})`);
    }
    const w = results.waypoint;
    const h = results.haproxy;
    const ratios = { rps: round(w.rps / h.rps), p50: round(w.p50Ms / h.p50Ms), p99: round(w.p99Ms / h.p99Ms), cpuPerRequest: round(w.cpuUsPerRequest / h.cpuUsPerRequest) };
    const pass = { rps: ratios.rps >= 0.7, p99: ratios.p99 <= 1.5 };
    console.log(`ratios waypoint/haproxy: rps ${ratios.rps} (target ≥ 0.7 ${pass.rps ? 'PASS' : 'FAIL'}), p99 ${ratios.p99} (target ≤ 1.5 ${pass.p99 ? 'PASS' : 'FAIL'}), p50 ${ratios.p50}, CPU/request ${ratios.cpuPerRequest}`);
    const b = results.baseline;
    const vsBaseline = b ? { rps: round(w.rps / b.rps), p50: round(w.p50Ms / b.p50Ms), p99: round(w.p99Ms / b.p99Ms), cpuPerRequest: round(w.cpuUsPerRequest / b.cpuUsPerRequest) } : undefined;
    if (vsBaseline) console.log(`ratios waypoint/baseline (${args['baseline-dist']}): rps ${vsBaseline.rps}, p50 ${vsBaseline.p50}, p99 ${vsBaseline.p99}, CPU/request ${vsBaseline.cpuPerRequest}`);
    const file = writeBenchResult(
      'waypoint',
      {
        setup: { client: 'h2load --h1', rounds: ROUNDS, saturation: { connections: SAT_CONNECTIONS, seconds: SATURATION_S }, fixedRate: { rps: FIXED_CLIENTS * FIXED_RPS_PER_CLIENT, seconds: FIXED_S }, proxyThreads: 1, route: 'PathPrefix /bench → 1 backend', ...(b ? { baselineDist: resolve(args['baseline-dist']!) } : {}) },
        results,
        ratios,
        ...(vsBaseline ? { vsBaseline } : {}),
        targets: { rps: '>= 0.7', p99: '<= 1.5' },
        pass,
      },
      args.out,
    );
    console.log(`wrote ${file}`);
  } finally {
    await Promise.all(procs.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Connections accepted (stot) and HTTP requests (req_tot) per backend frontend, from haproxy's stats socket. */
async function backendStats(socket: string): Promise<Map<string, { connections: number; requests: number }>> {
  const { connect } = await import('node:net');
  const csv = await new Promise<string>((resolve, reject) => {
    let out = '';
    const s = connect(socket, () => s.end('show stat\n'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.once('end', () => resolve(out));
    s.once('error', reject);
  });
  const [header, ...rows] = csv.split('\n').filter(Boolean);
  const cols = header.replace(/^# /, '').split(',');
  const at = (row: string[], col: string): string => row[cols.indexOf(col)];
  const stats = new Map<string, { connections: number; requests: number }>();
  for (const line of rows) {
    const row = line.split(',');
    if (at(row, 'svname') === 'FRONTEND') stats.set(at(row, 'pxname'), { connections: Number(at(row, 'stot')), requests: Number(at(row, 'req_tot')) });
  }
  return stats;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
