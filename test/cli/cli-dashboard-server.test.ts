// `weft dashboard`'s server (cli/dashboard/dashboard-server.ts), on a real socket with a page built into a
// temp dir: it serves the page's files and the JSON API from what its data source answers, on the
// loopback only; a request without its parameters is refused with 400 and the code, a failing source
// answers 502 with the source's own error (the page shows it), and neither stops the server. It refuses
// to start without the built page, and names the port another process holds.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardData } from '../../cli/dashboard/dashboard-server.js';
import { startDashboard, type DashboardServer } from '../../cli/dashboard/dashboard-server.js';
import { WeftError } from '../../lib/errors/index.js';

const topology = { at: 1, window: '5m', edges: [] };
const overview = { at: 1, window: '1m', namespaces: [] };

describe('the dashboard server', () => {
  let dir: string;
  let dash: DashboardServer;
  const asked: string[] = [];
  const data: DashboardData = {
    overview: () => Promise.resolve(overview),
    topology: () => Promise.resolve(topology),
    tap: (w, send) => {
      send({ kind: 'note', text: `tapping ${w.namespace}/${w.name}` });
      return Promise.resolve(() => asked.push('tap closed'));
    },
    workload: (w) => {
      asked.push(`${w.namespace}/${w.name}`);
      return Promise.reject(new WeftError('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING', { lab: 'demo', what: 'none recorded in lab.json' }));
    },
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-t-dashboard-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    await writeFile(join(dir, 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'app.css'), 'body{}');
    dash = await startDashboard(data, 0, dir);
  });
  afterAll(async () => {
    await dash?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on the loopback and serves the page', async () => {
    expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dash.server.address()).toMatchObject({ address: '127.0.0.1' });
    const page = await fetch(dash.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('id="app"');
    expect((await fetch(new URL('app.js', dash.url))).headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(new URL('nothing', dash.url))).status).toBe(404);
  });

  it('answers the API from its data source', async () => {
    expect(await (await fetch(new URL('api/overview', dash.url))).json()).toEqual(overview);
    expect(await (await fetch(new URL('api/topology', dash.url))).json()).toEqual(topology);
  });

  it('refuses a request without its parameters, passes the source\'s errors on, and keeps serving', async () => {
    const bad = await fetch(new URL('api/workload?namespace=demo', dash.url));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'ERR_WEFT_CLI_DASHBOARD_BAD_REQUEST', message: expect.stringContaining('name is missing') as string });
    const failed = await fetch(new URL('api/workload?namespace=demo&name=web', dash.url));
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('ERR_WEFT_LAB_PROMETHEUS_NOT_RUNNING');
    expect(asked.filter((a) => a === 'demo/web')).toEqual(['demo/web']);
    expect((await fetch(new URL('api/overview', dash.url))).status).toBe(200);
    expect((await fetch(new URL('api/overview', dash.url), { method: 'POST' })).status).toBe(405);
  });

  it('streams a tap as server-sent events and stops it when the page goes away', async () => {
    const ac = new AbortController();
    const res = await fetch(new URL('api/tap?namespace=demo&name=web', dash.url), { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value as Uint8Array);
    expect(first).toBe(`data: ${JSON.stringify({ kind: 'note', text: 'tapping demo/web' })}\n\n`);
    ac.abort();
    await expect.poll(() => asked.includes('tap closed')).toBe(true);
  });

  it('refuses to start without the built page', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'weft-t-dashboard-empty-'));
    try {
      await expect(startDashboard(data, 0, empty)).rejects.toMatchObject({ code: 'ERR_WEFT_CLI_DASHBOARD_BUNDLE_MISSING', message: expect.stringContaining(join(empty, 'index.html')) as string });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('names the port another process holds', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await expect(startDashboard(data, port, dir)).rejects.toMatchObject({ code: 'ERR_WEFT_CLI_DASHBOARD_LISTEN_FAILED', message: expect.stringContaining(`127.0.0.1:${port}`) as string });
    } finally {
      holder.close();
    }
  });
});
