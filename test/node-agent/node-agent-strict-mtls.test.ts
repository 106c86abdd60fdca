// Pins strict mTLS at the node agent (ARCHITECTURE.md, "mTLS mode"): plaintext from an uncaptured pod to
// a captured workload whose effective mode is strict is refused — even with an ALLOW policy that names the
// client's IP — with one access-log line (outcome DENY, reason ERR_WEFT_AGENT_UNAUTHENTICATED) and a count
// in weft_agent_plaintext_refused_total; a permissive workload still takes plaintext; HBONE from a captured
// pod still reaches the strict one; kubelet probes from the node address still pass; and a live plaintext
// connection is closed when its destination turns strict. Before, plaintext was accepted everywhere and
// ERR_WEFT_AGENT_UNAUTHENTICATED was never raised.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthorizationPolicySchema, WorkloadSchema } from '../../lib/model/index.js';
import { AgentMesh } from '../support/agent-mesh.js';
import { eventually } from '../support/eventually.js';
import { TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent strict mTLS (needs root: network namespaces, nftables)', () => {
  const mesh = new AgentMesh();
  const { sb, store, registry } = mesh;
  const access = mesh.access.lines;
  let a: PodNet, s: PodNet, p: PodNet, c: PodNet;

  const wl = (net: PodNet, name: string, captured: boolean, mtlsMode: 'strict' | 'permissive') =>
    WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [net.ip], captured, netns: net.path, mtlsMode });
  const setWorkloads = (permissiveP: boolean): void => {
    store.apply([
      { kind: 'Workload', version: String(Date.now()), replace: true, removes: [], upserts: [wl(a, 'a', true, 'permissive'), wl(s, 's', true, 'strict'), wl(p, 'p', true, permissiveP ? 'permissive' : 'strict'), wl(c, 'c', false, 'permissive')] },
    ]);
  };
  const refusedTotal = async (workload: string): Promise<number> => {
    const m = await registry.getSingleMetric('weft_agent_plaintext_refused_total')?.get();
    return m?.values.filter((v) => v.labels.destination_workload === workload).reduce((n, v) => n + v.value, 0) ?? 0;
  };

  beforeAll(async () => {
    [a, s, p, c] = await mesh.up('a', 's', 'p', 'c');
    setWorkloads(true);
    store.apply([{ kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true }]);
    mesh.startDataplane();
    for (const net of [s, p]) await mesh.app(net);
    for (const [net, name] of [[a, 'a'], [s, 's'], [p, 'p']] as const) await mesh.enroll(net, name);
  });
  afterAll(async () => {
    await mesh.close();
  });

  const talk = (ns: string, ip: string): Promise<string> => sb.talk(ns, ip, 8080);

  it('plaintext from an uncaptured pod to a strict workload is refused, logged once and counted', async () => {
    access.length = 0;
    expect(await talk(c.ns, s.ip)).toBe('ERR ECONNRESET');
    const line = await eventually(() => access.find((l) => l.direction === 'inbound-plain'), 5_000, 'inbound-plain access line');
    expect(line).toMatchObject({ outcome: 'DENY', reporter: 'destination', src: { ip: c.ip }, dst: { workload: 's' }, bytes_received: 0 });
    expect(String(line.reason)).toContain('ERR_WEFT_AGENT_UNAUTHENTICATED');
    expect(access.filter((l) => l.direction === 'inbound-plain')).toHaveLength(1);
    expect(await refusedTotal('s')).toBe(1);
  });

  it('an ALLOW policy naming the client IP does not reopen plaintext to a strict workload', async () => {
    store.apply([{ kind: 'Authorization', version: '2', replace: true, removes: [], upserts: [AuthorizationPolicySchema.parse({ namespace: 'shop', name: 'allow-c', action: 'ALLOW', rules: [{ from: [{ ipBlocks: [`${c.ip}/32`] }] }] })] }]);
    try {
      expect(await talk(c.ns, s.ip)).toBe('ERR ECONNRESET');
      expect(await refusedTotal('s')).toBe(2);
    } finally {
      store.apply([{ kind: 'Authorization', version: '3', replace: true, removes: [], upserts: [] }]);
    }
  });

  it('plaintext to a permissive workload is still accepted', async () => {
    expect(await talk(c.ns, p.ip)).toBe(`peer=${c.ip}\nhello`);
    expect(await refusedTotal('p')).toBe(0);
  });

  it('HBONE from a captured pod still reaches the strict workload', async () => {
    access.length = 0;
    expect(await talk(a.ns, s.ip)).toBe(`peer=${a.ip}\nhello`);
    await eventually(() => access.find((l) => l.direction === 'inbound' && l.outcome === 'ok'), 5_000, 'inbound HBONE access line');
  });

  it('kubelet probes from the node address still reach a strict workload', async () => {
    expect(await talk(sb.nodeNs, s.ip)).toBe(`peer=${sb.gateway}\nhello`);
  });

  it('a live plaintext connection is closed when its destination turns strict', async () => {
    const long = sb.spawn(c.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, p.ip, '8080', '', 'hold']);
    let got = '';
    long.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    await eventually(() => got !== '', 10_000, 'plaintext connection to p open');
    expect(got).toBe(`peer=${c.ip}\n`);
    const closed = new Promise((r) => long.once('exit', r));
    access.length = 0;
    setWorkloads(false);
    try {
      expect(await closed).toBe(0); // the agent closes it (FIN): TCP_CLIENT's clean end
      const line = await eventually(() => access.find((l) => l.direction === 'inbound-plain'), 5_000, 'closed connection access line');
      expect(line).toMatchObject({ outcome: 'DENY', dst: { workload: 'p' } });
      expect(String(line.reason)).toContain('ERR_WEFT_AGENT_UNAUTHENTICATED');
    } finally {
      setWorkloads(true);
    }
  }, 30_000);
});
