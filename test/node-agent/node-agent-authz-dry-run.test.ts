// Pins policy dry-run at the node agent (L4, the destination): with a DENY policy on A's principal
// annotated `weft.dev/dry-run: "true"`, A → B still connects (access log `ok`), the destination logs
// "policy dry-run: would_deny" naming the policy and counts weft_authz_dry_run_total{reporter="destination",
// verdict="would_deny"}; a live connection is not closed when such a policy appears (the re-authorisation
// on policy change enforces only the enforced set); a peer the policy does not name counts would_allow.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Server, Socket } from 'node:net';
import { LocalCertifier } from '../../lib/identity/index.js';
import { AuthorizationPolicySchema, StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry, type Registry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import type { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { eventually } from '../support/eventually.js';
import { mintCa } from '../support/pki.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';
import { jsonLinesLogger } from '../support/json-lines.js';
import { enrollPod } from '../support/pod-proxies.js';

describeRoot('node-agent L4 authorization dry-run (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet, c: PodNet;
  let dp: Dataplane;
  let registry: Registry;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];
  const { lines, log: accessLog } = jsonLinesLogger();
  const wl = (p: PodNet, name: string, captured: boolean) =>
    WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured, netns: p.path });
  const setPolicies = (upserts: unknown[]): void => {
    store.apply([{ kind: 'Authorization', version: String(Date.now()), upserts: upserts.map((u) => AuthorizationPolicySchema.parse(u)), removes: [], replace: true }]);
  };
  const talk = (from: PodNet, args: string[]): Promise<string> =>
    sb.run(from.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', ...args]).catch((e: Error) => `ERR ${e.message}`);

  beforeAll(async () => {
    await sb.up();
    [a, b, c] = [await sb.pod('a'), await sb.pod('b'), await sb.pod('c')];
    const ca = await mintCa();
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', true), wl(b, 'b', true), wl(c, 'c', true)], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    registry = createRegistry({ defaultMetrics: false });
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry, log: silentLogger, accessLog });
    const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => {
      s.write('hi\n');
      s.pipe(s);
    });
    servers.push(app);
    for (const [p, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) proxies.push(await enrollPod(dp.inputs, sb, p, name));
  });
  afterAll(async () => {
    for (const p of proxies) p.stop();
    for (const s of servers) s.close();
    dp?.close();
    await sb.destroy();
  });

  it('a live connection survives a dry-run DENY that names it; new ones connect and are counted would_deny', async () => {
    const long = sb.spawn(a.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', '', 'hold']);
    let got = '';
    long.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    await eventually(() => got === 'hi\n' || undefined, 10_000, 'long connection open');
    let exited = false;
    long.once('exit', () => (exited = true));
    setPolicies([{ namespace: 'shop', name: 'deny-a', action: 'DENY', dryRun: true, rules: [{ from: [{ principals: ['spiffe://cluster.local/ns/shop/sa/sa-a'] }] }] }]);
    lines.length = 0;
    expect(await talk(a, ['hello'])).toBe('hi\nhello');
    const dry = await eventually(() => lines.find((l) => l.dry_run !== undefined), 5_000, 'dry-run line');
    expect(dry).toMatchObject({ msg: 'policy dry-run: would_deny', policy: 'shop/deny-a', rule: 0, enforced: 'allow', reporter: 'destination', src: { identity: 'spiffe://cluster.local/ns/shop/sa/sa-a' } });
    await eventually(() => lines.find((l) => l.direction === 'inbound' && l.outcome === 'ok'), 5_000, 'inbound ok line');
    expect(exited).toBe(false);
    long.kill();
    expect(await registry.metrics()).toContain('weft_authz_dry_run_total{reporter="destination",policy="shop/deny-a",rule="0",verdict="would_deny"} 1');
  }, 30_000);

  it('a peer the dry-run policy does not name is counted would_allow', async () => {
    expect(await talk(c, ['hello'])).toBe('hi\nhello');
    await eventually(async () => (await registry.metrics()).includes('weft_authz_dry_run_total{reporter="destination",policy="none",rule="none",verdict="would_allow"} 1') || undefined, 5_000, 'would_allow counted');
    setPolicies([]);
  });
});
