// Pins that a socket the agent cannot even create costs only that connection. The addon throws
// synchronously when it cannot enter the pod's netns (ENOENT: the pod's netns file was removed while its
// listeners still live) or is out of descriptors (EMFILE); thrown from NetnsSocketFactory.connect inside
// a connection handler, that was an uncaught exception that ended the agent, and every captured pod on
// the node lost the mesh. Now the connection is refused (CONNECT, with the errno in the access log) and
// the agent keeps serving the other pods.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
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
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const exec = promisify(execFile);

interface AccessLine {
  outcome: string;
  reason?: string;
  direction: string;
  dst: { addr: string };
}

describeRoot('node-agent: a socket factory that throws costs one connection, not the agent (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet, c: PodNet;
  let dp: Dataplane;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];
  const access: AccessLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) access.push(JSON.parse(l) as AccessLine);
      cb();
    },
  });

  beforeAll(async () => {
    await sb.up();
    [a, b, c] = [await sb.pod('a'), await sb.pod('b'), await sb.pod('c')];
    const ca = await mintCa();
    const wl = (p: PodNet, name: string, captured: boolean) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', true), wl(b, 'b', true), wl(c, 'c', false)], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: pino(sink) });
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) {
      const app = await new NetnsSocketFactory(p.path, 0).listen('0.0.0.0', 8080);
      app.on('connection', (s: Socket) => s.pipe(s));
      servers.push(app);
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

  const talk = (from: PodNet, ip: string): Promise<string> =>
    sb.run(from.ns, 'env', ['CLIENT_TIMEOUT_MS=5000', process.execPath, '--input-type=module', '-e', TCP_CLIENT, ip, '8080', 'hello']).catch((e: { code?: number }) => `ERR ${e.code}`);

  it('pod A\'s netns file is gone: a connection to A is refused with CONNECT, B keeps working', async () => {
    expect(await talk(c, a.ip)).toBe('hello');
    // What a runtime does when it tears a sandbox down: the bind mount goes, while the agent's sockets
    // keep the namespace itself (and A's listeners) alive.
    await exec('ip', ['netns', 'del', a.ns]);
    access.length = 0;
    expect(await talk(c, a.ip)).not.toBe('hello');
    const line = await eventually(() => access.find((l) => l.direction === 'inbound-plain' && l.dst.addr === `${a.ip}:8080`), 5000, 'the refusal in the access log');
    expect(line.outcome).toBe('CONNECT');
    expect(line.reason).toMatch(/ENOENT/);
    expect(await talk(c, b.ip)).toBe('hello');
  });
});
