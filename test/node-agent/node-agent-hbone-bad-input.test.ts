// Pins that the pod's HBONE port refuses bad input without affecting others: plain bytes, TLS without a
// client certificate, HTTP/2 without CONNECT (405, lib/hbone), CONNECT to an address that is not the pod (403
// UNKNOWN_DST with a reason header), and a burst of 10 000 streams (capped per session) — after all
// of which a normal mesh connection still works.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { Server, Socket } from 'node:net';
import { LocalCertifier, type CertificateAuthority, type WorkloadCertificate } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { installCapture } from '../../node-agent/enroll/capture.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent HBONE bad input (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  let a: PodNet, b: PodNet, c: PodNet;
  let ca: CertificateAuthority;
  let cert: WorkloadCertificate;
  let dp: Dataplane;
  const store = new StateStore();
  const proxies: PodProxy[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    await sb.up();
    [a, b, c] = [await sb.pod('a'), await sb.pod('b'), await sb.pod('c')];
    ca = await mintCa();
    cert = await mintWorkloadCert(ca, 'shop', 'sa-c');
    const wl = (p: PodNet, name: string) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured: true });
    store.apply([{ kind: 'Workload', version: '1', upserts: [wl(a, 'a'), wl(b, 'b')], removes: [], snapshotDone: true }]);
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: silentLogger });
    const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
    app.on('connection', (s: Socket) => {
      s.write(`peer=${s.remoteAddress}\n`);
      s.pipe(s);
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

  const session = (withCert: boolean): ClientHttp2Session => {
    // Sockets from C's netns: C is not captured, so no mark is needed.
    const raw = new NetnsSocketFactory(c.path, 0).connect(b.ip, 15008);
    const tls = tlsConnect({
      socket: raw,
      ALPNProtocols: ['h2'],
      ca: ca.rootsPem,
      servername: 'hbone.weft',
      checkServerIdentity: () => undefined,
      ...(withCert ? { cert: cert.certChainPem.join('\n'), key: cert.keyPem } : {}),
    });
    const s = h2connect(`https://${b.ip}:15008`, { createConnection: () => tls });
    s.on('error', () => undefined);
    return s;
  };
  const request = (s: ClientHttp2Session, headers: Record<string, string>): Promise<{ status: number; reason: string }> =>
    new Promise((resolve, reject) => {
      const st = s.request(headers, { endStream: false });
      st.on('response', (h) => {
        resolve({ status: Number(h[constants.HTTP2_HEADER_STATUS]), reason: String(h['x-weft-reason'] ?? '') });
        st.close();
      });
      st.on('error', reject);
    });
  const meshStillWorks = async (): Promise<void> => {
    const out = await sb.run(a.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, b.ip, '8080', 'ok']);
    expect(out).toBe(`peer=${a.ip}\nok`);
  };

  it('closes plain bytes and TLS without a client certificate', async () => {
    // Not TLS: the handshake fails and the connection is closed without a byte (no HTTP answer, no alert).
    const plain = await sb.run(c.ns, 'bash', ['-c', `exec 3<>/dev/tcp/${b.ip}/15008; printf 'GET / HTTP/1.1\\r\\n\\r\\n' >&3; timeout 5 cat <&3 | head -c 100 | wc -c`]);
    expect(Number(plain.trim())).toBe(0);
    // TLS without a client certificate: the session is refused with GOAWAY INADEQUATE_SECURITY naming the code.
    const s = session(false);
    const goaway = new Promise<{ code: number; data: string }>((resolve) => s.once('goaway', (code: number, _last: number, data?: Buffer) => resolve({ code, data: data?.toString() ?? '' })));
    const err = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: `${b.ip}:8080` }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ERR_HTTP2_SESSION_ERROR');
    const refusal = await goaway;
    expect(refusal.code).toBe(constants.NGHTTP2_INADEQUATE_SECURITY);
    expect(refusal.data).toMatch(/^ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT /);
    s.destroy();
    await meshStillWorks();
  });

  it('answers 405 to non-CONNECT and 403 to CONNECT for an address that is not the pod', async () => {
    const s = session(true);
    const get = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'GET', [constants.HTTP2_HEADER_PATH]: '/', [constants.HTTP2_HEADER_SCHEME]: 'https', [constants.HTTP2_HEADER_AUTHORITY]: 'x' });
    expect(get.status).toBe(405);
    expect(get.reason).toMatch(/only CONNECT/);
    const other = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: '10.1.2.3:80' });
    expect(other.status).toBe(403);
    expect(other.reason).toMatch(/^UNKNOWN_DST: /);
    const ok = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: `${b.ip}:8080` });
    expect(ok.status).toBe(200);
    s.destroy();
  });

  it('survives 10 000 streams opened at once on one session', async () => {
    const s = session(true);
    const results = await Promise.allSettled(
      Array.from({ length: 10_000 }, () => request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: '10.1.2.3:80' })),
    );
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    expect(answered).toBeGreaterThan(0);
    s.destroy();
    await meshStillWorks();
  }, 120_000);
});
