// Pins the golden metrics against a real two-node lab (control plane, node agents, a waypoint) with real
// traffic, reading the numbers the components serve on :15020:
// - through the waypoint, 100 requests of which 20 answer 503 give weft_requests_total 80 × 200 and
//   20 × 503 with source_workload="client" (the client Deployment, resolved from its identity: it used to
//   read "unknown"), destination_workload="web", destination_service="web.gm.svc.cluster.local",
//   reporter="waypoint", and a duration histogram of 100 observations;
// - L4 without a waypoint, 10 connections to a Service are counted by the source and the destination agent
//   alike, with destination_service, connection_security_policy="mutual_tls" and the bytes each way;
// - a rollout restart of both client Deployments (new pods with new names) and sending the same
//   traffic again adds no series at any agent or the waypoint (bounded cardinality), while the counters grow.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { METRICS_PORT } from '../../lib/names.js';
import { eventually } from '../support/eventually.js';
import { startLab, type Lab } from '../support/lab.js';
import { ambientNamespace, echoDeployment, httpService } from '../support/mesh-load.js';
import { describeRoot } from '../support/root.js';

/** A Deployment and its Service (port 80 → 8080), named alike. */
const deployment = (name: string, ns: string, node: string, restartedAt = '0'): string => `${echoDeployment(name, ns, node, restartedAt)}\n${httpService(name, ns, name)}---`;

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: gm, labels: { weft.dev/dataplane-mode: ambient, weft.dev/use-waypoint: waypoint } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: gm, annotations: { weft.dev/waypoint-replicas: "1" } }
spec:
  gatewayClassName: weft-waypoint
  listeners: [{ name: mesh, port: 15008, protocol: HBONE }]
---
${deployment('client', 'gm', 'n1')}
${deployment('web', 'gm', 'n2')}
${ambientNamespace('l4')}
${deployment('client', 'l4', 'n1')}
${deployment('echo', 'l4', 'n2')}
`;

/** Runs in a pod: `n` GETs of `url`, one new connection each; prints the status codes. */
const LOAD = `
import { request } from 'node:http';
const [url, n] = process.argv.slice(1);
const counts = {};
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => { res.resume(); res.on('end', () => { counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1; resolve(); }); });
    req.on('error', (e) => { counts[e.code] = (counts[e.code] ?? 0) + 1; resolve(); });
    req.end();
  });
}
console.log(JSON.stringify(counts));
`;

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Prometheus text → samples (label values here hold no `"` or `,`-quoted escapes we need to undo). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Sample[], name: string, match: Record<string, string>): number =>
  samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

describeRoot('golden metrics in the lab: waypoint (L7) and both node agents (L4), bounded cardinality (needs root: network namespaces)', () => {
  let lab: Lab;

  const load = async (from: string, url: string, n: number): Promise<Record<string, number>> => {
    const pod = (await lab.status()).pods.find((p) => `${p.namespace}/${p.name}`.startsWith(from) && p.ready);
    if (!pod) throw new Error(`no ready pod ${from}*`);
    const r = await lab.exec(`${pod.namespace}/${pod.name}`, [process.execPath, '--input-type=module', '-e', LOAD, url, String(n)], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, number>;
  };
  const agentMetrics = async (node: string): Promise<Sample[]> => {
    const n = lab.info.nodes.find((x) => x.name === node)!;
    const r = await run(['ip', 'netns', 'exec', n.netns, 'curl', '-sS', '--max-time', '10', `http://${n.ip}:${METRICS_PORT}/metrics`]);
    expect(r.code, r.stderr).toBe(0);
    return parse(r.stdout);
  };
  const waypointMetrics = async (): Promise<Sample[]> => {
    const wp = (await lab.status()).pods.find((p) => p.namespace === 'gm' && p.name.startsWith('waypoint-'));
    if (!wp) throw new Error('no waypoint pod in gm');
    const r = await lab.exec(`gm/${wp.name}`, ['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${METRICS_PORT}/metrics`]);
    expect(r.code, r.stderr).toBe(0);
    return parse(r.stdout);
  };
  /** Series of the traffic metrics (weft_tcp_*, weft_request*) at both agents and the waypoint. */
  const seriesCount = async (): Promise<number> => {
    const all = [...(await agentMetrics('n1')), ...(await agentMetrics('n2')), ...(await waypointMetrics())];
    return all.filter((s) => s.name.startsWith('weft_tcp_') || s.name.startsWith('weft_request')).length;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    // 4 app pods + the waypoint pod the controller generates.
    await lab.waitPodsReady({ minPods: 5, timeoutMs: 150_000 });
    // Routing through the waypoint needs the control plane's state at the agents and the waypoint.
    await eventually(async () => (await load('gm/client-', 'http://web.gm/', 1).catch((): Record<string, number> => ({})))['200'] === 1 || undefined, 60_000, 'web through the waypoint', 1000);
    await eventually(async () => (await load('l4/client-', 'http://echo.l4/', 1).catch((): Record<string, number> => ({})))['200'] === 1 || undefined, 60_000, 'echo over L4', 1000);
  }, 240_000);
  afterAll(async () => {
    await lab?.down();
  });

  const l7 = { reporter: 'waypoint', source_workload: 'client', source_workload_namespace: 'gm', source_principal: 'spiffe://cluster.local/ns/gm/sa/client', destination_workload: 'web', destination_service: 'web.gm.svc.cluster.local' };
  const l4 = {
    source_workload: 'client',
    source_workload_namespace: 'l4',
    source_principal: 'spiffe://cluster.local/ns/l4/sa/client',
    destination_workload: 'echo',
    destination_principal: 'spiffe://cluster.local/ns/l4/sa/echo',
    destination_service: 'echo.l4.svc.cluster.local',
    connection_security_policy: 'mutual_tls',
  };

  const traffic = async (): Promise<void> => {
    expect(await load('gm/client-', 'http://web.gm/', 80)).toEqual({ 200: 80 });
    expect(await load('gm/client-', 'http://web.gm/?status=503', 20)).toEqual({ 503: 20 });
    expect(await load('l4/client-', 'http://echo.l4/', 10)).toEqual({ 200: 10 });
  };

  let before: { ok: number; failed: number; src: number; dst: number; series: number };

  it('100 requests with 20 503s through the waypoint; 10 L4 connections at both reporters', async () => {
    const base = await waypointMetrics();
    const ok0 = sum(base, 'weft_requests_total', { ...l7, response_code: '200' });
    const src0 = sum(await agentMetrics('n1'), 'weft_tcp_connections_closed_total', { ...l4, reporter: 'source', response_flags: '-' });
    const dst0 = sum(await agentMetrics('n2'), 'weft_tcp_connections_closed_total', { ...l4, reporter: 'destination', response_flags: '-' });
    await traffic();
    const wp = await waypointMetrics();
    expect(sum(wp, 'weft_requests_total', { ...l7, response_code: '200' }) - ok0).toBe(80);
    expect(sum(wp, 'weft_requests_total', { ...l7, response_code: '503' })).toBe(20);
    expect(sum(wp, 'weft_requests_total', { source_workload: 'unknown' })).toBe(0);
    const ok = sum(wp, 'weft_requests_total', { ...l7, response_code: '200' });
    const failed = sum(wp, 'weft_requests_total', { ...l7, response_code: '503' });
    expect(sum(wp, 'weft_request_duration_milliseconds_count', l7)).toBe(ok + failed);
    expect(sum(wp, 'weft_request_duration_milliseconds_bucket', { ...l7, le: '+Inf' })).toBe(ok + failed);
    // Connections are counted when they end, which may be just after the client saw its answer.
    const src = await eventually(async () => {
      const v = sum(await agentMetrics('n1'), 'weft_tcp_connections_closed_total', { ...l4, reporter: 'source', response_flags: '-' });
      return v - src0 === 10 ? v : undefined;
    }, 10_000, 'source agent counted 10');
    const dst = await eventually(async () => {
      const v = sum(await agentMetrics('n2'), 'weft_tcp_connections_closed_total', { ...l4, reporter: 'destination', response_flags: '-' });
      return v - dst0 === 10 ? v : undefined;
    }, 10_000, 'destination agent counted 10');
    const n2 = await agentMetrics('n2');
    expect(sum(n2, 'weft_tcp_connections_opened_total', { ...l4, reporter: 'destination' })).toBe(dst);
    expect(sum(n2, 'weft_tcp_received_bytes_total', { ...l4, reporter: 'destination' })).toBeGreaterThan(0);
    expect(sum(n2, 'weft_tcp_sent_bytes_total', { ...l4, reporter: 'destination' })).toBeGreaterThan(0);
    // No workload label holds a pod name.
    const pods = (await lab.status()).pods.map((p) => p.name);
    for (const s of [...wp, ...n2, ...(await agentMetrics('n1'))]) {
      for (const k of ['source_workload', 'destination_workload']) if (s.labels[k] !== undefined) expect(pods, `${s.name} ${k}`).not.toContain(s.labels[k]);
    }
    before = { ok, failed, src, dst, series: await seriesCount() };
  }, 120_000);

  it('client pods replaced by a rollout restart (new names, same Deployments) add no series; the counters go on', async () => {
    const old = (await lab.status()).pods.filter((p) => p.name.startsWith('client-'));
    expect(old).toHaveLength(2);
    // A rollout restart of both client Deployments: new pods, new names, same owners.
    await lab.apply(`${deployment('client', 'gm', 'n1', '1')}\n${deployment('client', 'l4', 'n1', '1')}`);
    await eventually(async () => {
      const now = (await lab.status()).pods.filter((p) => p.name.startsWith('client-'));
      return now.length === 2 && now.every((p) => p.ready && !old.some((o) => o.name === p.name)) || undefined;
    }, 90_000, 'new client pods ready', 500);
    await eventually(async () => (await load('gm/client-', 'http://web.gm/', 1).catch((): Record<string, number> => ({})))['200'] === 1 || undefined, 60_000, 'new gm client served', 1000);
    await eventually(async () => (await load('l4/client-', 'http://echo.l4/', 1).catch((): Record<string, number> => ({})))['200'] === 1 || undefined, 60_000, 'new l4 client served', 1000);
    await traffic();
    const wp = await waypointMetrics();
    expect(sum(wp, 'weft_requests_total', { ...l7, response_code: '200' })).toBe(before.ok + 81);
    expect(sum(wp, 'weft_requests_total', { ...l7, response_code: '503' })).toBe(before.failed + 20);
    await eventually(async () => sum(await agentMetrics('n2'), 'weft_tcp_connections_closed_total', { ...l4, reporter: 'destination', response_flags: '-' }) === before.dst + 11 || undefined, 10_000, 'destination counted the new pod');
    expect(await seriesCount()).toBe(before.series);
  }, 200_000);
});
