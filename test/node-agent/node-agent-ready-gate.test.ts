// Pins the restart hold: a restarted agent's re-created pod listeners accept before the agent has
// state and certificates; those connections must wait for readiness and then be served (not refused,
// not passed through in plaintext), be reset when readiness takes too long or too many pile up, and
// cost nothing once the agent is ready.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as h2connect, constants } from 'node:http2';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { LocalCertifier, type CertificateAuthority, type WorkloadCertificate } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema, type Workload } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { PlainSocketFactory, type SocketFactory } from '../../node-agent/netns/socket-factory.js';
import { InboundHbone } from '../../node-agent/proxy/inbound.js';
import type { PodContext } from '../../node-agent/proxy/inputs.js';
import { ReadyGate } from '../../node-agent/proxy/ready-gate.js';
import { eventually } from '../support/eventually.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';

const POD_IP = '10.88.77.1';

const listen = async (s: Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

/** Connects, sends `msg`, resolves with what came back and how the connection ended. */
const talk = (port: number, msg: string): Promise<{ data: string; how: string }> =>
  new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    let data = '';
    s.on('connect', () => s.write(msg));
    s.on('data', (d: Buffer) => {
      data += d.toString();
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ data, how: e.code ?? e.message }));
    s.on('close', () => resolve({ data, how: 'closed' }));
  });

describe('node-agent ready gate', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  const gated = async (gate: ReadyGate): Promise<number> => {
    const s = createServer((sock: Socket) => gate.admit(sock, (x) => x.on('data', (d: Buffer) => x.end(`echo:${d.toString()}`))));
    servers.push(s);
    return listen(s);
  };

  it('holds connections until open, then serves them with the bytes they sent meanwhile', async () => {
    const gate = new ReadyGate({ holdMs: 10_000, maxHeld: 10, log: silentLogger });
    const port = await gated(gate);
    const pending = talk(port, 'early');
    await eventually(() => gate.heldCount === 1, 10_000, 'the connection held');
    gate.open();
    expect(await pending).toEqual({ data: 'echo:early', how: 'closed' });
    expect(gate.heldCount).toBe(0);
    // Open: served at once.
    expect(await talk(port, 'late')).toEqual({ data: 'echo:late', how: 'closed' });
  });

  it('resets a connection held longer than holdMs', async () => {
    const gate = new ReadyGate({ holdMs: 300, maxHeld: 10, log: silentLogger });
    const port = await gated(gate);
    const t0 = Date.now();
    const r = await talk(port, 'x');
    expect(r.data).toBe('');
    expect(r.how).toBe('ECONNRESET');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(gate.heldCount).toBe(0);
  });

  it('resets connections beyond maxHeld at once and keeps the held ones', async () => {
    const gate = new ReadyGate({ holdMs: 10_000, maxHeld: 2, log: silentLogger });
    const port = await gated(gate);
    const held = [talk(port, 'a'), talk(port, 'b')];
    await eventually(() => gate.heldCount === 2, 10_000, 'two connections held');
    expect(await talk(port, 'c')).toEqual({ data: '', how: 'ECONNRESET' });
    gate.open();
    expect((await Promise.all(held)).map((r) => r.data).sort()).toEqual(['echo:a', 'echo:b']);
  });

  it('close() resets what is held', async () => {
    const gate = new ReadyGate({ holdMs: 10_000, maxHeld: 10, log: silentLogger });
    const port = await gated(gate);
    const pending = talk(port, 'x');
    await eventually(() => gate.heldCount === 1, 10_000, 'the connection held');
    gate.close();
    // Ended without a byte of the app. ReadyGate.close() documents a reset but destroys (FIN), unlike the
    // holdMs/maxHeld drops: pinned as it is (reported, not a test change to make here).
    expect(await pending).toEqual({ data: '', how: 'closed' });
  });
});

describe('node-agent ready gate on the HBONE port', () => {
  const store = new StateStore();
  let ca: CertificateAuthority;
  let clientCert: WorkloadCertificate;
  let dp: Dataplane;
  let gate: ReadyGate;
  let hbone: InboundHbone;
  const servers: Server[] = [];
  let hbonePort = 0;
  let appPort = 0;

  beforeAll(async () => {
    ca = await mintCa();
    clientCert = await mintWorkloadCert(ca, 'shop', 'sa-a');
    gate = new ReadyGate({ holdMs: 10_000, maxHeld: 10, log: silentLogger });
    dp = createDataplane({
      view: store,
      certifier: new LocalCertifier(ca),
      trustDomain: 'cluster.local',
      fallbackRoots: ca.rootsPem,
      registry: createRegistry({ defaultMetrics: false }),
      log: silentLogger,
      accessLog: silentLogger,
      gate,
    });
    const app = createServer((s: Socket) => s.on('data', (d: Buffer) => s.end(`app:${d.toString()}`)));
    servers.push(app);
    appPort = await listen(app);
    // The pod's workload is not in state yet: as right after an agent restart. The pod is at POD_IP (a
    // CONNECT to loopback is refused as a self-call); its "netns" is loopback, where its app listens.
    const plain = new PlainSocketFactory();
    const factory: SocketFactory = { where: 'test pod on loopback', listen: (h, p) => plain.listen(h, p), connect: (_address, port) => plain.connect('127.0.0.1', port) };
    const pod: PodContext = { uid: 'uid-b', namespace: 'shop', name: 'b', ips: [POD_IP], factory, workload: (): Workload | undefined => store.workloadByUid('uid-b') };
    hbone = new InboundHbone(dp.inputs, pod);
    const l = createServer();
    servers.push(l);
    hbonePort = await listen(l);
    hbone.attach(l);
  });
  afterAll(() => {
    hbone?.close();
    for (const s of servers) s.close();
    dp?.close();
  });

  it('a tunnel opened before the agent knows the pod is served once state is in and the gate opens', async () => {
    const s = h2connect(`https://127.0.0.1:${hbonePort}`, {
      createConnection: () =>
        tlsConnect({ host: '127.0.0.1', port: hbonePort, ALPNProtocols: ['h2'], ca: ca.rootsPem, checkServerIdentity: () => undefined, cert: clientCert.certChainPem.join('\n'), key: clientCert.keyPem }),
    });
    s.on('error', () => undefined);
    try {
      const st = s.request({ [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: `${POD_IP}:${appPort}` }, { endStream: false });
      let status = 0;
      let body = '';
      st.on('response', (h) => (status = Number(h[constants.HTTP2_HEADER_STATUS])));
      st.on('data', (d: Buffer) => (body += d.toString()));
      st.on('error', () => undefined);
      st.write('hello');
      // Held by the gate (the TLS connection is what waits): no answer to the CONNECT yet.
      await eventually(() => gate.heldCount === 1, 10_000, 'the connection held');
      expect(status).toBe(0);
      const w = WorkloadSchema.parse({ uid: 'uid-b', name: 'b', namespace: 'shop', serviceAccount: 'sa-b', ips: [POD_IP], captured: true });
      store.apply([{ kind: 'Workload', version: '1', upserts: [w], removes: [], snapshotDone: true }]);
      gate.open();
      await eventually(() => body !== '', 10_000, 'the app answered through the tunnel');
      expect(status).toBe(200);
      expect(body).toBe('app:hello');
    } finally {
      s.destroy();
    }
  });
});
