// bench/waypoint: the same client → proxy → backend path through weft-waypoint and through haproxy in
// HTTP mode with the same route (PathPrefix /bench → one backend), in the same run. Reports requests/s at
// saturation and p50/p99 at a fixed rate, their ratios, and writes bench/results/waypoint.json.
// Targets (issue 7): waypoint rps ≥ 0.7× haproxy, waypoint p99 ≤ 1.5× haproxy.
// Both proxies get one core's worth of work (haproxy nbthread 1, Node's one event loop); the backend is a
// haproxy `http-request return` (cheap, shared by both); the client is h2load (HTTP/1.1).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const waypointMain = join(here, '..', '..', 'waypoint', 'main.js');

const SATURATION_S = Number(process.env.WEFT_BENCH_SATURATION_S ?? 10);
const FIXED_S = Number(process.env.WEFT_BENCH_FIXED_S ?? 10);
const SAT_CONNECTIONS = 32;
const FIXED_CLIENTS = 10;
const FIXED_RPS_PER_CLIENT = 100; // 1 000 requests/s in total

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

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

function saturation(url: string): number {
  h2load(['-c', String(SAT_CONNECTIONS), '-t', '1', '-D', '2', url]); // warm-up
  const out = h2load(['-c', String(SAT_CONNECTIONS), '-t', '1', '-D', String(SATURATION_S), url]);
  const m = /finished in [^,]+, ([\d.]+) req\/s/.exec(out);
  const ok = /status codes: (\d+) 2xx/.exec(out);
  if (!m || !ok || Number(ok[1]) === 0) throw new Error(`h2load output not understood:\n${out}`);
  return Number(m[1]);
}

function fixedRate(url: string, logFile: string): { p50: number; p99: number; n: number; non2xx: number } {
  h2load(['-c', String(FIXED_CLIENTS), '-t', '1', '--rps', String(FIXED_RPS_PER_CLIENT), '-D', String(FIXED_S), '--log-file', logFile, url]);
  const lat: number[] = [];
  let non2xx = 0;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const [, status, us] = line.split('\t');
    if (!status) continue;
    if (!status.startsWith('2')) non2xx++;
    lat.push(Number(us) / 1000);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), n: lat.length, non2xx };
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
    const backendPort = await freePort();
    const haproxyPort = await freePort();
    const waypointPort = await freePort();
    // The backend: a haproxy answering 200 "ok" itself.
    writeFileSync(
      join(dir, 'backend.cfg'),
      `global\n  nbthread 1\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend backend\n  bind 127.0.0.1:${backendPort}\n  http-request return status 200 content-type text/plain string ok\n`,
    );
    // The baseline proxy: the same route in haproxy's words.
    writeFileSync(
      join(dir, 'proxy.cfg'),
      `global\n  nbthread 1\n  maxconn 4000\ndefaults\n  mode http\n  option http-keep-alive\n  http-reuse always\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend web\n  bind 127.0.0.1:${haproxyPort}\n  acl bench path /bench\n  acl bench path_beg /bench/\n  use_backend web if bench\n  http-request return status 404 if !bench\nbackend web\n  server b1 127.0.0.1:${backendPort}\n`,
    );
    writeFileSync(
      join(dir, 'waypoint.yaml'),
      stringify({
        workloads: [{ uid: 'backend-1', name: 'backend-1', namespace: 'bench', serviceAccount: 'backend', ips: ['127.0.0.1'] }],
        services: [
          {
            namespace: 'bench',
            name: 'web',
            vips: ['10.96.0.1'],
            ports: [{ name: 'http', port: 80, targetPort: backendPort }],
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
    procs.push(spawn('haproxy', ['-f', join(dir, 'backend.cfg'), '-db'], { stdio: 'ignore' }));
    procs.push(spawn('haproxy', ['-f', join(dir, 'proxy.cfg'), '-db'], { stdio: 'ignore' }));
    const [admin, metrics, health] = [await freePort(), await freePort(), await freePort()];
    procs.push(
      spawn(
        process.execPath,
        [
          waypointMain,
          '--gateway', 'bench/waypoint',
          '--local-config', join(dir, 'waypoint.yaml'),
          '--plain-listen', `127.0.0.1:${waypointPort}=10.96.0.1:80`,
          '--access-log=false',
          '--log-level', 'warn',
          '--admin-address', `127.0.0.1:${admin}`,
          '--metrics-address', `127.0.0.1:${metrics}`,
          '--health-address', `127.0.0.1:${health}`,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      ),
    );
    await Promise.all([waitPort(backendPort), waitPort(haproxyPort), waitPort(waypointPort)]);

    const results: Record<string, { rps: number; p50Ms: number; p99Ms: number; fixedRequests: number; non2xx: number }> = {};
    for (const [name, port] of [
      ['haproxy', haproxyPort],
      ['waypoint', waypointPort],
    ] as const) {
      const url = `http://127.0.0.1:${port}/bench/x`;
      const rps = saturation(url);
      const f = fixedRate(url, join(dir, `${name}.log`));
      results[name] = { rps: Math.round(rps), p50Ms: round(f.p50), p99Ms: round(f.p99), fixedRequests: f.n, non2xx: f.non2xx };
      console.log(`${name.padEnd(9)} saturation ${Math.round(rps)} req/s; at ${FIXED_CLIENTS * FIXED_RPS_PER_CLIENT} req/s p50 ${round(f.p50)} ms p99 ${round(f.p99)} ms (${f.n} requests, ${f.non2xx} non-2xx)`);
    }
    const w = results.waypoint;
    const h = results.haproxy;
    const ratios = { rps: round(w.rps / h.rps), p50: round(w.p50Ms / h.p50Ms), p99: round(w.p99Ms / h.p99Ms) };
    const pass = { rps: ratios.rps >= 0.7, p99: ratios.p99 <= 1.5 };
    console.log(`ratios waypoint/haproxy: rps ${ratios.rps} (target ≥ 0.7 ${pass.rps ? 'PASS' : 'FAIL'}), p99 ${ratios.p99} (target ≤ 1.5 ${pass.p99 ? 'PASS' : 'FAIL'}), p50 ${ratios.p50}`);
    const out = join(root, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'waypoint.json'),
      JSON.stringify(
        {
          benchmark: 'waypoint',
          date: new Date().toISOString(),
          setup: { client: 'h2load --h1', saturation: { connections: SAT_CONNECTIONS, seconds: SATURATION_S }, fixedRate: { rps: FIXED_CLIENTS * FIXED_RPS_PER_CLIENT, seconds: FIXED_S }, proxyThreads: 1, route: 'PathPrefix /bench → 1 backend' },
          results,
          ratios,
          targets: { rps: '>= 0.7', p99: '<= 1.5' },
          pass,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await Promise.all(procs.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
