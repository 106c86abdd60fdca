// Pins the bounds on what one source and one pod can hold through the agent. Without them a single
// client (or a loop through the agent) could take every file descriptor of the node agent, and with
// them the mesh of every pod on the node. With 4 per source and 6 per pod: a source's 5th concurrent
// connection is reset, another source gets only the pod's remaining 2, every refusal is counted in
// weft_agent_connection_limit_total{scope,kind}, and closing connections frees their slots.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { LocalCertifier } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { installCapture } from '../../node-agent/enroll/capture.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { eventually } from '../support/eventually.js';
import { mintCa } from '../support/pki.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

/**
 * `node -e OPEN_N <host> <port> <n>`: opens n connections one after another, each waiting for its echo
 * ("ok") or its reset/close ("reset"); prints the outcomes as one JSON line and holds the open ones
 * until killed (at most 60 s).
 */
const OPEN_N = `
import { connect } from 'node:net';
const [host, port, n] = process.argv.slice(1);
const out = [];
for (let i = 0; i < Number(n); i++) {
  out.push(await new Promise((resolve) => {
    const s = connect({ host, port: Number(port) }, () => s.write('x'));
    s.once('data', () => resolve('ok'));
    s.on('error', () => resolve('reset'));
    s.on('close', () => resolve('reset'));
    setTimeout(() => resolve('timeout'), 5000).unref();
  }));
}
console.log(JSON.stringify(out));
setTimeout(() => process.exit(0), 60000);
`;

describeRoot('node-agent: connections per pod and per source are bounded (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, c: PodNet, d: PodNet;
  let dp: Dataplane;
  let registry: Registry;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    await sb.up();
    [a, c, d] = [await sb.pod('a'), await sb.pod('c'), await sb.pod('d')];
    const ca = await mintCa();
    const wl = (p: PodNet, name: string, captured: boolean) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', true), wl(c, 'c', false), wl(d, 'd', false)], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    registry = createRegistry({ defaultMetrics: false });
    dp = createDataplane({
      view: store,
      certifier: new LocalCertifier(ca),
      trustDomain: 'cluster.local',
      fallbackRoots: ca.rootsPem,
      registry,
      log: silentLogger,
      accessLog: silentLogger,
      limits: { perPod: 6, perSource: 4 },
    });
    const app = await new NetnsSocketFactory(a.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => s.pipe(s));
    servers.push(app);
    const proxy = new PodProxy(dp.inputs, { uid: 'uid-a', namespace: 'shop', name: 'a', ips: [a.ip] }, new NetnsSocketFactory(a.path));
    await proxy.start();
    proxies.push(proxy);
    await installCapture({ netns: a.path, probeSources: [sb.gateway] }, 'a');
  });
  afterAll(async () => {
    for (const p of proxies) p.stop();
    for (const s of servers) s.close();
    dp?.close();
    await sb.destroy();
  });

  /** Opens `n` connections from `from` to A's app; resolves with their outcomes and the holding process. */
  const open = async (from: PodNet, n: number): Promise<{ outcomes: string[]; child: ChildProcess }> => {
    const child = sb.spawn(from.ns, process.execPath, ['--input-type=module', '-e', OPEN_N, a.ip, '8080', String(n)]);
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    const line = await eventually(() => (text.includes('\n') ? text.split('\n')[0] : undefined), 30_000, `outcomes from ${from.ns}`);
    return { outcomes: JSON.parse(line) as string[], child };
  };
  const hits = async (scope: string): Promise<number> => {
    const m = (await registry.getSingleMetric('weft_agent_connection_limit_total')!.get()).values;
    return m.filter((v) => v.labels.scope === scope && v.labels.kind === 'inbound-plain').reduce((n, v) => n + v.value, 0);
  };

  it('resets the connections over the per-source and per-pod bounds, counts them, and frees slots on close', async () => {
    const fromC = await open(c, 5);
    expect(fromC.outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'reset']);
    expect(await hits('source')).toBe(1);
    const fromD = await open(d, 4);
    expect(fromD.outcomes).toEqual(['ok', 'ok', 'reset', 'reset']);
    expect(await hits('pod')).toBe(2);
    expect(dp.inputs.limits.held('pod', 'uid-a')).toBe(6);

    fromC.child.kill('SIGKILL');
    fromD.child.kill('SIGKILL');
    await eventually(() => dp.inputs.limits.held('pod', 'uid-a') === 0 && dp.inputs.limits.held('source', c.ip) === 0, 10_000, 'slots released');
    const again = await open(c, 4);
    expect(again.outcomes).toEqual(['ok', 'ok', 'ok', 'ok']);
    again.child.kill('SIGKILL');
  });
});
