// `weft dashboard` in Debian's headless Chromium (playwright-core, /usr/bin/chromium) against a two-node
// lab with real traffic through a waypoint: a client Deployment calls web at 8 req/s answered 200 and
// 2 req/s answered 503. Pins:
// - the overview lists web with its numbers read from the lab's Prometheus (~10 req/s, success ≈ 80 %)
//   and draws the client → web edge as mutual TLS;
// - clicking web opens its page, with the HTTPRoute and the AuthorizationPolicy its waypoint and node
//   agents hold (read from their admin endpoints), and its live tap shows the requests with both identities;
// - tripling the load makes the page's requests/s rise, while the page stays open (it polls its server);
// - screenshots of both pages are kept under test-results/dashboard/ (docs/dashboard.md says where).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT } from '../cli/cli-bundle.js';
import { eventually } from '../support/eventually.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { echoDeployment, httpService, l7DenyPolicy, singleBackendRoute, startLoad, waypointGateway } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'dashboard');
const NS = 'dash';
/** The dashboard's rate window: 20 s (`--window`), so that its numbers settle in a third of the default's 1 m. */
const WINDOW = '20s';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS}, labels: { weft.dev/dataplane-mode: ambient, weft.dev/use-waypoint: waypoint } }
---
${waypointGateway(NS, 1)}
${echoDeployment('client', NS, 'n1')}
${echoDeployment('web', NS, 'n2')}
${httpService('web', NS, 'web')}
---
${singleBackendRoute(NS, 'web-route', 'web', 'web')}
${l7DenyPolicy(NS, 'no-admin-posts', 'web', 'POST', '/admin*')}
`;

/** The number a metric cell shows (`12.3`, `80.10%`, `1.7ms`), NaN for the dash of "no data". */
const numberIn = (text: string | null): number => Number.parseFloat((text ?? '').replace('%', ''));

describeRoot('weft dashboard in headless Chromium against a lab with traffic (needs root: network namespaces)', () => {
  let lab: Lab;
  let dashboard: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  const stopLoad = new AbortController();
  const loads: Promise<unknown>[] = [];

  const clientPod = async (): Promise<string> => {
    const pod = (await lab.status()).pods.find((p) => p.namespace === NS && p.name.startsWith('client-') && p.ready);
    if (!pod) throw new Error(`no ready client pod in ${NS}`);
    return `${NS}/${pod.name}`;
  };
  const load = async (path: string, rate: number): Promise<void> => {
    const from = await clientPod();
    loads.push(startLoad(lab, { from, target: `http://web.${NS}${path}`, rate, durationS: 400, timeoutS: 10, signal: stopLoad.signal }).catch(() => undefined));
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup installs Debian's chromium package (apt-get install chromium)`);
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 3, timeoutMs: 150_000 });
    // The route through the waypoint answers once the control plane's state reached the agents and the waypoint.
    await eventually(async () => {
      const r = await lab.exec(await clientPod(), ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://web.${NS}/`]);
      return r.stdout === '200' || undefined;
    }, 90_000, 'web answering through the waypoint', 1000);
    await load('/', 8);
    await load('/?status=503', 2);

    dashboard = spawn(process.execPath, [CLI, 'dashboard', '--lab', lab.name, '--port', '0', '--window', WINDOW], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    dashboard.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    dashboard.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    url = await eventually(() => {
      if (dashboard!.exitCode !== null) throw new Error(`weft dashboard exited ${dashboard!.exitCode}: ${err}`);
      return /weft dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    }, 30_000, 'the dashboard URL printed');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await mkdir(SHOTS, { recursive: true });
  }, 400_000);

  afterAll(async () => {
    stopLoad.abort();
    await Promise.all(loads);
    await browser?.close();
    if (dashboard && dashboard.exitCode === null) dashboard.kill('SIGTERM');
    await lab?.down();
  }, 120_000);

  it('lists web with its golden metrics and draws the client → web edge with mTLS', async () => {
    await page.goto(url);
    const row = page.getByTestId(`workload-${NS}-web`);
    // Prometheus scrapes every 5 s and rates are over 20 s: the numbers settle within half a minute of traffic.
    let seen = 'nothing';
    await eventually(async () => {
      const cells = await row.locator('td').allTextContents().catch((): string[] => []);
      seen = `row [${cells.join(' | ')}], page errors [${(await page.getByRole('alert').allTextContents()).join('; ')}]`;
      if (cells.length < 9) return undefined;
      const [, success, rps, , , p99] = cells;
      return numberIn(rps) > 5 && Math.abs(numberIn(success) - 80) <= 5 && Number.isFinite(numberIn(p99)) ? true : undefined;
    }, 120_000, 'web at ~10 req/s and ~80 % success in the overview', 1000).catch(async (err: Error) => {
      await page.screenshot({ path: join(SHOTS, 'overview-failed.png'), fullPage: true });
      throw new Error(`${err.message}; last seen: ${seen}`);
    });
    // The window the page states is the one it was started with.
    expect(await page.getByTestId('updated').textContent()).toContain(`rates over ${WINDOW}`);
    // mTLS is that of the edge's requests: the row's share is of connections opened in the last minute, and
    // the waypoint keeps its few connections to web open (the row may well show none).
    const edge = page.getByTestId(`edge-${NS}/client-${NS}/web`);
    await eventually(async () => (await edge.count()) === 1 || undefined, 30_000, 'the client → web edge in the topology');
    expect(await edge.getAttribute('class')).toBe('edge mtls');
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
  });

  it('opens the workload page with its route and policy, and its requests/s rise with the load', async () => {
    await page.goto(url);
    await page.getByTestId(`workload-${NS}-web`).getByRole('link', { name: 'web' }).click();
    await eventually(async () => (await page.getByTestId('workload-title').textContent()) === `${NS}/web` || undefined, 10_000, 'the workload page');
    await eventually(async () => (await page.getByTestId('routes').textContent().catch(() => ''))?.includes(`${NS}/web-route`) || undefined, 60_000, 'the route from the waypoint');
    const policies = (await page.getByTestId('policies').textContent()) ?? '';
    expect(policies).toContain(`${NS}/no-admin-posts`);
    expect(policies).toMatch(/waypoint dash\/waypoint/);
    // The live tap shows the requests being sent, with both identities.
    await eventually(async () => {
      const tap = (await page.getByTestId('tap').textContent()) ?? '';
      return /GET web\.dash(:80)?\/.*src=dash\/client \(spiffe:\/\/cluster\.local\/ns\/dash\/sa\/client\).*dst=dash\/web \(spiffe:/.test(tap) || undefined;
    }, 30_000, 'a request in the live tap', 500);

    const before = await eventually(async () => {
      const v = numberIn(await page.getByTestId('metric-rps').textContent());
      return v > 8 && v < 12 ? v : undefined;
    }, 90_000, 'requests/s near 10', 1000);
    await load('/', 20);
    const after = await eventually(async () => {
      const v = numberIn(await page.getByTestId('metric-rps').textContent());
      return v > 2 * before ? v : undefined;
    }, 120_000, `requests/s above twice ${before}`, 1000);
    expect(after).toBeLessThan(36);
    // The charts' history (range queries, on a 10 s grid: it follows the cards within a step or two).
    const api = new URL(`api/workload?namespace=${NS}&name=web`, url);
    type History = { series: { rate: { v: (number | null)[] }; successRate: { v: (number | null)[] } } };
    const detail = await eventually(async () => {
      const d = (await (await fetch(api)).json()) as History;
      const points = d.series.rate.v.filter((v): v is number => v !== null);
      return points.length > 3 && Math.max(...points) > 2 * before ? d : undefined;
    }, 60_000, `the requests/s history above twice ${before}`, 1000);
    expect(detail.series.successRate.v.filter((v): v is number => v !== null).every((v) => v > 0.7 && v <= 1)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'workload.png'), fullPage: true });
  });
});
