import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { WeftError, isWeftError } from '../../lib/errors/index.js';
import { packageRoot } from '../../lib/package-root.js';
import { listenHttp } from '../../lib/telemetry/http-endpoints.js';
import type { Overview, TapLine, Topology, WorkloadDetail, WorkloadKey } from './dashboard-api.js';

/**
 * The dashboard's HTTP server: the page esbuild bundled (dist/dashboard/) and the small JSON API it reads
 * (`/api/overview`, `/api/topology`, `/api/workload?namespace=&name=`, and the live tap of a workload as
 * server-sent events, `/api/tap?namespace=&name=`). It listens on the loopback only:
 * it answers with what the CLI's user may read (Prometheus, the components' admin endpoints), so nobody
 * else on the network should reach it. The browser never talks to Prometheus or a component itself.
 */
export interface DashboardData {
  overview(): Promise<Overview>;
  topology(): Promise<Topology>;
  workload(w: WorkloadKey): Promise<WorkloadDetail>;
  /** Starts a live tap of the workload, each line handed to `send`; resolves with what stops it. */
  tap(w: WorkloadKey, send: (line: TapLine) => void): Promise<() => void>;
}

/** Where `npm run build` puts the page (scripts/build-dashboard.mjs). */
export function bundleDir(): string {
  return join(packageRoot(), 'dist', 'dashboard');
}

const STATIC: Readonly<Record<string, [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

export interface DashboardServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startDashboard(data: DashboardData, port: number, dir: string = bundleDir()): Promise<DashboardServer> {
  for (const [file] of Object.values(STATIC)) {
    if (!existsSync(join(dir, file))) throw new WeftError('ERR_WEFT_CLI_DASHBOARD_BUNDLE_MISSING', { path: join(dir, file) });
  }
  const server = createServer((req, res) => {
    answer(data, dir, req, res).catch((err: unknown) => sendError(res, err));
  });
  let bound: number;
  try {
    bound = await listenHttp(server, { host: '127.0.0.1', port });
  } catch (err) {
    throw new WeftError('ERR_WEFT_CLI_DASHBOARD_LISTEN_FAILED', { port, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
  }
  return {
    url: `http://127.0.0.1:${bound}/`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function answer(data: DashboardData, dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://dashboard');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('the dashboard is read-only: use GET\n');
    return;
  }
  const file = Object.hasOwn(STATIC, url.pathname) ? STATIC[url.pathname] : undefined;
  if (file) {
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' }).end(await readFile(join(dir, file[0])));
    return;
  }
  switch (url.pathname) {
    case '/api/overview':
      return sendJson(res, await data.overview());
    case '/api/topology':
      return sendJson(res, await data.topology());
    case '/api/workload':
      return sendJson(res, await data.workload({ namespace: param(url, 'namespace'), name: param(url, 'name') }));
    case '/api/tap':
      return streamTap(data, { namespace: param(url, 'namespace'), name: param(url, 'name') }, res);
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`try / or ${['/api/overview', '/api/topology', '/api/workload'].join(', ')}\n`);
  }
}

/** Server-sent events, one per tap line, until the page goes away; a tap that cannot start is one error answer. */
async function streamTap(data: DashboardData, w: WorkloadKey, res: ServerResponse): Promise<void> {
  let open = true;
  res.on('close', () => (open = false));
  const send = (line: TapLine): void => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`data: ${JSON.stringify(line)}\n\n`);
  };
  const stop = await data.tap(w, (line) => open && send(line));
  if (!open) return stop();
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' }).flushHeaders();
  res.on('close', stop);
}

function param(url: URL, key: string): string {
  const v = url.searchParams.get(key);
  if (v === null || v === '') throw new WeftError('ERR_WEFT_CLI_DASHBOARD_BAD_REQUEST', { path: url.pathname, reason: `the query parameter ${key} is missing` });
  return v;
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** A failed answer as `{error: {code, message, hint}}`: the page shows it in place of the numbers. */
function sendError(res: ServerResponse, err: unknown): void {
  const e = isWeftError(err) ? err : new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: String(err) }, { cause: err });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(e.http ?? 502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint } }));
}
