// Pins the node agent's TCP golden metrics with Istio's labels, at both reporters, through real capture,
// HBONE and network namespaces: A → Service VIP of B is counted by the source agent and by the destination
// agent with source/destination workload (the owner, never the pod), namespace, principal,
// destination_service (FQDN, name, namespace; at the destination found from the pod's endpoint), 
// connection_security_policy (mutual_tls over HBONE, none for a plaintext peer), response_flags and the
// bytes each way; a denial is counted as DENY at both ends (the source records the destination's refusal,
// not `-` with zero bytes). Pods restarted under the same owner (new uid, name and IP) add no series.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Server, Socket } from 'node:net';
import { LocalCertifier } from '../../lib/identity/index.js';
import { AuthorizationPolicySchema, ServiceSchema, StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry, type Registry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import type { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { eventually } from '../support/eventually.js';
import { mintCa } from '../support/pki.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';
import { enrollPod } from '../support/pod-proxies.js';

type Series = { labels: Record<string, string | number>; value: number };
const A_ID = 'spiffe://cluster.local/ns/shop/sa/sa-a';
const B_ID = 'spiffe://cluster.local/ns/shop/sa/sa-b';

describeRoot('node-agent TCP metrics (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, a2: PodNet, b: PodNet, c: PodNet;
  let dp: Dataplane;
  let registry: Registry;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];

  const wl = (p: PodNet, pod: string, owner: string, sa: string, captured: boolean) =>
    WorkloadSchema.parse({ uid: `uid-${pod}`, name: pod, namespace: 'shop', serviceAccount: sa, ips: [p.ip], captured, netns: p.path, workloadName: owner });
  const series = async (name: string): Promise<Series[]> => (await registry.getSingleMetric(name)!.get()).values as Series[];
  const sum = (list: Series[], match: Record<string, string>): number =>
    list.filter((v) => Object.entries(match).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  const talk = (from: PodNet, ip: string, port: number): Promise<string> =>
    sb.run(from.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, ip, String(port), 'hello']).catch((e: Error) => `ERR ${e.message}`);
  const enroll = async (p: PodNet, pod: string): Promise<void> => {
    proxies.push(await enrollPod(dp.inputs, sb, p, pod));
  };
  const workloads = (aPod: { net: PodNet; name: string }) => [wl(aPod.net, aPod.name, 'a', 'sa-a', true), wl(b, 'b-5f7-x1', 'b', 'sa-b', true), wl(c, 'c-1', 'c', 'sa-c', false)];

  beforeAll(async () => {
    await sb.up();
    [a, a2, b, c] = [await sb.pod('a'), await sb.pod('a2'), await sb.pod('b'), await sb.pod('c')];
    const ca = await mintCa();
    store.apply([
      { kind: 'Workload', version: '1', upserts: workloads({ net: a, name: 'a-6d8-p1' }), removes: [], snapshotDone: true },
      {
        kind: 'Service',
        version: '1',
        upserts: [ServiceSchema.parse({ namespace: 'shop', name: 'b', vips: ['10.96.0.20'], ports: [{ port: 80, targetPort: 8080 }], endpoints: [{ workloadUid: 'uid-b-5f7-x1', address: b.ip }] })],
        removes: [],
        snapshotDone: true,
      },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    registry = createRegistry({ defaultMetrics: false });
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry, log: silentLogger, accessLog: silentLogger });
    const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => {
      s.write('hi\n');
      s.pipe(s);
    });
    servers.push(app);
    await enroll(a, 'a-6d8-p1');
    await enroll(b, 'b-5f7-x1');
  });
  afterAll(async () => {
    for (const p of proxies) p.stop();
    for (const s of servers) s.close();
    dp?.close();
    await sb.destroy();
  });

  const edge = {
    source_workload: 'a',
    source_workload_namespace: 'shop',
    source_principal: A_ID,
    destination_workload: 'b',
    destination_workload_namespace: 'shop',
    destination_principal: B_ID,
    destination_service: 'b.shop.svc.cluster.local',
    destination_service_name: 'b',
    destination_service_namespace: 'shop',
    connection_security_policy: 'mutual_tls',
  };

  it('A → Service B: both reporters count the connection and its bytes with Istio labels', async () => {
    for (let i = 0; i < 3; i++) expect(await talk(a, '10.96.0.20', 80)).toBe('hi\nhello');
    for (const reporter of ['source', 'destination']) {
      await eventually(async () => sum(await series('weft_tcp_connections_closed_total'), { ...edge, reporter, response_flags: '-' }) === 3 || undefined, 5_000, `${reporter} closed`);
      expect(sum(await series('weft_tcp_connections_opened_total'), { ...edge, reporter })).toBe(3);
      // The client sent `hello` (5 bytes) and got `hi\nhello` back (8) on each connection.
      expect(sum(await series('weft_tcp_received_bytes_total'), { ...edge, reporter, response_flags: '-' })).toBe(15);
      expect(sum(await series('weft_tcp_sent_bytes_total'), { ...edge, reporter, response_flags: '-' })).toBe(24);
    }
  });

  it('a plaintext peer is counted with connection_security_policy="none" and its owner as workload', async () => {
    expect(await talk(c, b.ip, 8080)).toBe('hi\nhello');
    await eventually(
      async () =>
        sum(await series('weft_tcp_connections_closed_total'), {
          reporter: 'destination',
          source_workload: 'c',
          source_principal: 'unknown',
          destination_workload: 'b',
          destination_service: 'b.shop.svc.cluster.local',
          connection_security_policy: 'none',
          response_flags: '-',
        }) === 1 || undefined,
      5_000,
      'plaintext counted',
    );
  });

  it('a denial is counted as DENY by both reporters', async () => {
    store.apply([{ kind: 'Authorization', version: '2', upserts: [AuthorizationPolicySchema.parse({ namespace: 'shop', name: 'deny-a', action: 'DENY', rules: [{ from: [{ principals: [A_ID] }] }] })], removes: [], replace: true }]);
    expect(await talk(a, b.ip, 8080)).not.toContain('hi');
    await eventually(async () => sum(await series('weft_tcp_connections_closed_total'), { reporter: 'source', source_workload: 'a', destination_workload: 'b', response_flags: 'DENY' }) === 1 || undefined, 5_000, 'source DENY');
    expect(sum(await series('weft_tcp_connections_closed_total'), { reporter: 'destination', source_workload: 'a', destination_workload: 'b', response_flags: 'DENY' })).toBe(1);
    store.apply([{ kind: 'Authorization', version: '3', upserts: [], removes: [], replace: true }]);
  });

  it('restarting A under the same owner (new pod name, uid and IP) adds no series', async () => {
    const names = ['weft_tcp_connections_opened_total', 'weft_tcp_connections_closed_total', 'weft_tcp_sent_bytes_total', 'weft_tcp_received_bytes_total'];
    const count = async (): Promise<number> => (await Promise.all(names.map(series))).reduce((n, s) => n + s.length, 0);
    expect(await talk(a, '10.96.0.20', 80)).toBe('hi\nhello');
    const before = await count();
    // The old pod goes, a new one of the same Deployment comes with another name, uid and address.
    proxies.shift()!.stop();
    store.apply([{ kind: 'Workload', version: '4', upserts: workloads({ net: a2, name: 'a-6d8-p2' }), removes: [], replace: true }]);
    await enroll(a2, 'a-6d8-p2');
    for (let i = 0; i < 3; i++) expect(await talk(a2, '10.96.0.20', 80)).toBe('hi\nhello');
    await eventually(async () => sum(await series('weft_tcp_connections_closed_total'), { ...edge, reporter: 'destination', response_flags: '-' }) === 7 || undefined, 5_000, 'new pod counted');
    expect(await count()).toBe(before);
  });
});
