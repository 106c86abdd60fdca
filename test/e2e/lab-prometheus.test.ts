// The lab's Prometheus (issue 12 item 2): `weft lab up` runs Debian's prometheus in the root namespace,
// `weft lab prometheus` prints the address it answers on from the host, and it scrapes weft-control,
// every node agent and every annotated pod — a waypoint here, found through the pod annotations the
// waypoint controller sets, labelled by namespace and pod as the kubernetes-pods job does. Traffic through
// the mesh shows up in a PromQL query.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { isAlive, listRecords } from '../../lab/processes.js';
import { eventually } from '../support/eventually.js';
import { CLI, startLab, type Lab } from '../support/lab.js';
import { ambientNamespace, echoPod } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `${ambientNamespace('prom')}${echoPod('client', 'prom', 'n1', 'client')}${echoPod('echo', 'prom', 'n2', 'echo')}`;

interface Target { labels: Record<string, string>; health: string; lastError: string }

describeRoot('the lab Prometheus (needs root: network namespaces)', () => {
  let lab: Lab;
  let url: string;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    expect(res.status, path).toBe(200);
    return ((await res.json()) as { data: T }).data;
  };
  const targets = async (): Promise<Target[]> => (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
    (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`)).result;

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 2 });
    url = (await lab.cli(['prometheus'])).stdout.trim();
  }, 400_000);

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('answers on the host address `weft lab prometheus` prints', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
  });

  it('scrapes weft-control and every node agent, labelled as the chart labels their pods', async () => {
    const up = await eventually(
      async () => {
        const t = (await targets()).filter((x) => x.labels.job === 'weft-control' || x.labels.job === 'weft-node-agent');
        return t.length === 3 && t.every((x) => x.health === 'up') && t;
      },
      60_000,
      'weft-control and both node agents scraped and up',
      500,
    );
    expect(up.map((t) => `${t.labels.job} ${t.labels.namespace} ${t.labels.pod} ${t.labels.node ?? ''}`.trim()).sort()).toEqual([
      'weft-control weft-system weft-control',
      'weft-node-agent weft-system weft-node-agent-n1 n1',
      'weft-node-agent weft-system weft-node-agent-n2 n2',
    ]);
  }, 90_000);

  it('counts mesh traffic: a request between captured pods shows in PromQL', async () => {
    const r = await lab.exec('prom/client', ['curl', '-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://${(await lab.status()).pods.find((p) => p.name === 'echo')?.ip}:8080/`]);
    expect(r.stdout).toBe('200');
    const rows = await eventually(
      async () => {
        const res = await query('sum by (job) (weft_tcp_connections_opened_total)');
        return res.length > 0 && res;
      },
      60_000,
      'weft_tcp_connections_opened_total in Prometheus',
      500,
    );
    expect(rows.map((x) => x.metric.job)).toEqual(['weft-node-agent']);
    expect(Number(rows[0].value[1])).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('finds a waypoint through its pod annotations (kubernetes-pods job)', async () => {
    const applied = await run([process.execPath, CLI, 'waypoint', 'apply', '-n', 'prom', '--lab', lab.name], { timeoutMs: 120_000, allowFailure: true });
    expect(applied.code, applied.stderr).toBe(0);
    const wp = await eventually(
      async () => (await targets()).find((x) => x.labels.job === 'kubernetes-pods' && x.labels.namespace === 'prom' && x.health === 'up'),
      120_000,
      'the waypoint pod scraped and up',
      500,
    );
    expect(wp.labels.pod).toMatch(/^waypoint-/);
    expect(wp.labels.node).toMatch(/^n[12]$/);
    const series = await eventually(async () => {
      const res = await query('count({job="kubernetes-pods", namespace="prom", __name__=~"weft_.+"})');
      return res.length > 0 && res;
    }, 60_000, 'weft_* series from the waypoint', 500);
    expect(Number(series[0].value[1])).toBeGreaterThan(0);
  }, 200_000);

  it('lab down stops Prometheus and its forward and leaves nothing', async () => {
    const records = (await listRecords(lab.paths.procs)).filter((r) => r.id === 'prometheus' || r.id === 'prometheus-forward');
    expect(records.map((r) => r.id).sort()).toEqual(['prometheus', 'prometheus-forward']);
    expect(await lab.down()).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
    for (const r of records) expect(isAlive(r), `${r.id} pid ${r.pid}`).toBe(false);
    await expect(fetch(`${url}/-/ready`)).rejects.toThrow();
  }, 120_000);
});
