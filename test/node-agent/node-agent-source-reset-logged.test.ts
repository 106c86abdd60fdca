// Pins the source agent's access log for a tunnel the destination accepted (200) and then reset: a policy
// that appears while the connection is open makes the destination agent cut it. The destination logs DENY
// (ERR_WEFT_AGENT_POLICY_CHANGED); the source must log the reset with its flag, not `outcome: ok,
// bytes_received: 0`. The destination resets the tunnel with RST_STREAM CONNECT_ERROR, and the source
// decides from the stream's RST code once both of its sides have closed, whichever close comes first.
// Real capture, real HBONE, both pods' proxies of one node agent.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { Server, Socket } from 'node:net';
import { pino } from 'pino';
import { LocalCertifier } from '../../lib/identity/index.js';
import { AuthorizationPolicySchema, StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { installCapture } from '../../node-agent/enroll/capture.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { eventually } from '../support/eventually.js';
import { mintCa } from '../support/pki.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent: a tunnel the destination resets after 200 in the source access log (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet;
  let dp: Dataplane;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];
  const access: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      access.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });

  beforeAll(async () => {
    await sb.up();
    [a, b] = [await sb.pod('a'), await sb.pod('b')];
    const ca = await mintCa();
    const wl = (p: PodNet, name: string) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured: true, netns: p.path });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a'), wl(b, 'b')], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: pino(sink) });
    const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => {
      s.on('error', () => undefined);
      s.write(`peer=${s.remoteAddress}\n`);
      s.resume();
      s.on('end', () => s.end());
    });
    servers.push(app);
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) {
      const proxy = new PodProxy(dp.inputs, { uid: `uid-${name}`, namespace: 'shop', name, ips: [p.ip] }, new NetnsSocketFactory(p.path));
      await proxy.start();
      proxies.push(proxy);
      await installCapture({ netns: p.path, probeSources: [sb.gateway] }, name);
    }
  });
  afterAll(async () => {
    for (const p of proxies) p.stop();
    for (const s of servers) s.close();
    dp?.close();
    await sb.destroy();
  });

  it('a policy that cuts an open tunnel at the destination: the source logs CONNECT with the reset, not ok', async () => {
    const long = sb.spawn(a.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', '', 'hold']);
    let got = '';
    long.stdout!.on('data', (d: Buffer) => (got += d.toString()));
    const exited = new Promise((r) => long.once('exit', r));
    await eventually(() => got === `peer=${a.ip}\n`, 10_000, 'the held connection to answer');
    access.length = 0;
    store.apply([{ kind: 'Authorization', version: '2', upserts: [AuthorizationPolicySchema.parse({ namespace: 'shop', name: 'deny-a', action: 'DENY', rules: [{ from: [{ principals: ['spiffe://cluster.local/ns/shop/sa/sa-a'] }] }] })], removes: [], replace: true }]);
    await exited;
    const inbound = await eventually(() => access.find((l) => l.direction === 'inbound'), 10_000, 'destination access line');
    expect(inbound).toMatchObject({ reporter: 'destination', outcome: 'DENY', policy: 'shop/deny-a' });
    expect(String(inbound.reason)).toContain('ERR_WEFT_AGENT_POLICY_CHANGED');
    const outbound = await eventually(() => access.find((l) => l.direction === 'outbound'), 10_000, 'source access line');
    expect(outbound).toMatchObject({ reporter: 'source', outcome: 'CONNECT', dst: { workload: 'b' } });
    expect(String(outbound.reason)).toMatch(/reset by the far end after it opened \(RST_STREAM CONNECT_ERROR 10\).*ERR_WEFT_HBONE_TUNNEL_RESET/);
    expect(access.filter((l) => l.direction === 'outbound')).toHaveLength(1);
  }, 60_000);

  it('a tunnel the client closes itself is still logged ok at the source', async () => {
    store.apply([{ kind: 'Authorization', version: '3', upserts: [], removes: [], replace: true }]);
    access.length = 0;
    const out = await sb.run(a.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', 'hi']).catch((e: Error) => `ERR ${e.message}`);
    expect(out).toBe(`peer=${a.ip}\n`);
    const outbound = await eventually(() => access.find((l) => l.direction === 'outbound'), 10_000, 'source access line');
    expect(outbound).toMatchObject({ reporter: 'source', outcome: 'ok', bytes_sent: 2 });
  }, 60_000);
});
