// Pins that the pod's HBONE port refuses bad input without affecting others: plain bytes, TLS without a
// client certificate, HTTP/2 without CONNECT (405, lib/hbone), CONNECT to an address that is not the pod (403
// UNKNOWN_DST with a reason header), and a burst of 10 000 streams (capped per session) — after all
// of which a normal mesh connection still works.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { WorkloadCertificate } from '../../lib/identity/index.js';
import { WorkloadSchema } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { AgentMesh } from '../support/agent-mesh.js';
import { mintWorkloadCert } from '../support/pki.js';
import type { PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent HBONE bad input (needs root: network namespaces, nftables)', () => {
  const mesh = new AgentMesh();
  const { sb, store } = mesh;
  let a: PodNet, b: PodNet, c: PodNet;
  let cert: WorkloadCertificate;

  beforeAll(async () => {
    [a, b, c] = await mesh.up('a', 'b', 'c');
    cert = await mintWorkloadCert(mesh.ca, 'shop', 'sa-c');
    const wl = (p: PodNet, name: string) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured: true });
    store.apply([{ kind: 'Workload', version: '1', upserts: [wl(a, 'a'), wl(b, 'b')], removes: [], snapshotDone: true }]);
    mesh.startDataplane({ accessLog: silentLogger });
    await mesh.app(b);
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) await mesh.enroll(p, name);
  });
  afterAll(async () => {
    await mesh.close();
  });

  const session = (withCert: boolean): ClientHttp2Session => {
    // Sockets from C's netns: C is not captured, so no mark is needed.
    const raw = new NetnsSocketFactory(c.path, 0).connect(b.ip, 15008);
    const tls = tlsConnect({
      socket: raw,
      ALPNProtocols: ['h2'],
      ca: mesh.ca.rootsPem,
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
    expect(await sb.talk(a.ns, b.ip, 8080, 'ok')).toBe(`peer=${a.ip}\nok`);
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
    // Each stream is either answered with the refusal it asked for, or ended with the session the server
    // closed once the client overran its stream cap; nothing else (no 5xx, no hang).
    const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as NodeJS.ErrnoException).code] : []));
    expect(answered.length).toBeGreaterThan(0);
    expect(new Set(answered.map((x) => x.status))).toEqual(new Set([403]));
    for (const x of answered) expect(x.reason).toMatch(/^UNKNOWN_DST: /);
    expect(new Set(failed)).toEqual(new Set(failed.length > 0 ? ['ERR_HTTP2_SESSION_ERROR'] : []));
    s.destroy();
    await meshStillWorks();
  }, 120_000);
});
