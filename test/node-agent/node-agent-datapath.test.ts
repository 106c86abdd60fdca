// Pins the L4 data path through real capture, real HBONE (mTLS, HTTP/2 CONNECT) and real network
// namespaces: captured A → captured B goes through B's 15008 with both SPIFFE identities, B's app sees
// A's IP; a Service VIP is resolved to an endpoint; a DENY policy refuses with a reason and closes a
// live connection when it appears (the source logs that reset tunnel as CONNECT, not ok); an uncaptured
// peer is allowed or refused by policy.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthorizationPolicySchema, ServiceSchema, WorkloadSchema } from '../../lib/model/index.js';
import { AgentMesh } from '../support/agent-mesh.js';
import { eventually } from '../support/eventually.js';
import { TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent data path (needs root: network namespaces, nftables)', () => {
  const mesh = new AgentMesh();
  const { sb, store } = mesh;
  const access = mesh.access.lines;
  let a: PodNet, b: PodNet, c: PodNet;

  const wl = (p: PodNet, name: string, sa: string, captured: boolean) =>
    WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: sa, ips: [p.ip], captured, netns: p.path, labels: { app: name } });
  const setPolicies = (upserts: unknown[]): void => {
    store.apply([{ kind: 'Authorization', version: String(Date.now()), upserts: upserts.map((u) => AuthorizationPolicySchema.parse(u)), removes: [], replace: true }]);
  };

  beforeAll(async () => {
    [a, b, c] = await mesh.up('a', 'b', 'c');
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', 'sa-a', true), wl(b, 'b', 'sa-b', true), wl(c, 'c', 'sa-c', false)], removes: [], snapshotDone: true },
      { kind: 'Service', version: '1', upserts: [ServiceSchema.parse({ namespace: 'shop', name: 'b', vips: ['10.96.0.10'], ports: [{ port: 80, targetPort: 8080 }], endpoints: [{ workloadUid: 'uid-b', address: b.ip }] })], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    mesh.startDataplane();
    // B's app: echoes the peer address, then everything it reads (half-close aware).
    await mesh.app(b);
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) await mesh.enroll(p, name);
  });
  afterAll(async () => {
    await mesh.close();
  });

  /** Connects from a pod, sends `hello`, half-closes, returns everything received (or `ERR <code>`). */
  const talkHalfClose = (from: PodNet, ip: string, port: number): Promise<string> =>
    sb.talk(from.ns, ip, port);

  it('A → B over HBONE: app sees A, access log has both SPIFFE IDs', async () => {
    access.length = 0;
    const out = await talkHalfClose(a, b.ip, 8080);
    expect(out).toBe(`peer=${a.ip}\nhello`);
    // Each side logs its connection when it closes, which can be after the client saw its end.
    const inbound = await eventually(() => access.find((l) => l.direction === 'inbound'), 10_000, 'inbound access line');
    const outbound = await eventually(() => access.find((l) => l.direction === 'outbound'), 10_000, 'outbound access line');
    expect(outbound).toMatchObject({ path: 'hbone', src: { identity: 'spiffe://cluster.local/ns/shop/sa/sa-a' }, dst: { identity: 'spiffe://cluster.local/ns/shop/sa/sa-b' }, outcome: 'ok' });
    expect(inbound).toMatchObject({ src: { identity: 'spiffe://cluster.local/ns/shop/sa/sa-a', ip: a.ip }, dst: { identity: 'spiffe://cluster.local/ns/shop/sa/sa-b' }, outcome: 'ok', bytes_sent: 5 });
  });

  it('A → Service VIP of B resolves to the endpoint', async () => {
    expect(await talkHalfClose(a, '10.96.0.10', 80)).toBe(`peer=${a.ip}\nhello`);
  });

  it('uncaptured C → captured B is allowed without policy, refused by an ALLOW-only-mesh policy', async () => {
    expect(await talkHalfClose(c, b.ip, 8080)).toBe(`peer=${c.ip}\nhello`);
    setPolicies([{ namespace: 'shop', name: 'mesh-only', action: 'ALLOW', rules: [{ from: [{ namespaces: ['shop'] }] }] }]);
    access.length = 0;
    expect(await talkHalfClose(c, b.ip, 8080)).toBe('ERR ECONNRESET');
    expect(await eventually(() => access.find((l) => l.direction === 'inbound-plain'), 10_000, 'inbound-plain access line')).toMatchObject({ outcome: 'DENY', policy: 'shop/mesh-only' });
    expect(await talkHalfClose(a, b.ip, 8080)).toBe(`peer=${a.ip}\nhello`);
    setPolicies([]);
  });

  it('DENY from A refuses with a reason, and closes an open connection when it appears', async () => {
    // Open a long-lived connection first.
    const long = sb.spawn(a.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', '', 'hold']);
    let got = '';
    long.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    await eventually(() => got !== '', 10_000, 'the held connection answered');
    expect(got).toBe(`peer=${a.ip}\n`);
    access.length = 0;
    const closed = new Promise((r) => long.once('exit', r));
    setPolicies([{ namespace: 'shop', name: 'deny-a', action: 'DENY', rules: [{ from: [{ principals: ['spiffe://cluster.local/ns/shop/sa/sa-a'] }] }] }]);
    await closed;
    const cut = await eventually(() => access.find((l) => l.direction === 'inbound'), 10_000, 'destination access line');
    expect(cut).toMatchObject({ reporter: 'destination', outcome: 'DENY', policy: 'shop/deny-a' });
    expect(String(cut.reason)).toContain('ERR_WEFT_AGENT_POLICY_CHANGED');
    // The destination cut a tunnel it had accepted (200): it resets it with RST_STREAM CONNECT_ERROR, and the
    // source logs that reset once both of its sides closed, never `outcome: ok, bytes_received: 0`.
    const source = await eventually(() => access.find((l) => l.direction === 'outbound'), 10_000, 'source access line');
    expect(source).toMatchObject({ reporter: 'source', outcome: 'CONNECT', dst: { workload: 'b' } });
    expect(String(source.reason)).toMatch(/reset by the far end after it opened \(RST_STREAM CONNECT_ERROR 10\).*ERR_WEFT_HBONE_TUNNEL_RESET/);
    expect(access.filter((l) => l.direction === 'outbound')).toHaveLength(1);
    access.length = 0;
    expect(await talkHalfClose(a, b.ip, 8080)).toBe('ERR ECONNRESET');
    const refused = await eventually(() => access.find((l) => l.direction === 'outbound'), 10_000, 'source access line of the refusal');
    expect(refused).toMatchObject({ outcome: 'DENY' });
    // The source learns that a policy refused it, not which (issue 12 item 5); B's agent logged the policy above.
    expect(String(refused.reason)).toContain('DENY: policy_denied');
    expect(String(refused.reason)).not.toContain('deny-a');
    // C (plaintext) is not matched by the principal rule.
    expect(await talkHalfClose(c, b.ip, 8080)).toBe(`peer=${c.ip}\nhello`);
    setPolicies([]);
  }, 60_000);
});
