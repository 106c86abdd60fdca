// Pins that refusals lib/hbone's server makes on its own — a method other than CONNECT, a malformed
// `:authority`, a client without a certificate — reach the node agent's access log (one line each, with
// the outcome flag, the reason naming the error code, the peer's address) and the connection metrics,
// instead of only a debug line; and that refusals the agent decides itself are not logged twice.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Registry } from 'prom-client';
import { LocalCertifier, type CertificateAuthority, type WorkloadCertificate } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema, type Workload } from '../../lib/model/index.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { PlainSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { InboundHbone } from '../../node-agent/proxy/inbound.js';
import type { PodContext } from '../../node-agent/proxy/inputs.js';
import { AccessLines } from '../support/agent-mesh.js';
import { eventually } from '../support/eventually.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';

interface AccessLine {
  outcome: string;
  reason?: string;
  direction: string;
  src: { ip: string; identity: string };
  dst: { addr: string; workload: string; identity: string };
}

describe('node-agent HBONE: lib/hbone refusals in the access log and metrics', () => {
  const access = new AccessLines();
  const lines = access.lines as unknown as AccessLine[];
  const store = new StateStore();
  let registry: Registry;
  let ca: CertificateAuthority;
  let clientCert: WorkloadCertificate;
  let dp: Dataplane;
  let hbone: InboundHbone;
  let listener: Server;
  let port = 0;

  beforeAll(async () => {
    ca = await mintCa();
    clientCert = await mintWorkloadCert(ca, 'shop', 'sa-a');
    const w = WorkloadSchema.parse({ uid: 'uid-b', name: 'b', namespace: 'shop', serviceAccount: 'sa-b', ips: ['127.0.0.1'], captured: true });
    store.apply([{ kind: 'Workload', version: '1', upserts: [w], removes: [], snapshotDone: true }]);
    registry = createRegistry({ defaultMetrics: false });
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry, log: silentLogger, accessLog: access.logger });
    const pod: PodContext = { uid: 'uid-b', namespace: 'shop', name: 'b', ips: ['127.0.0.1'], factory: new PlainSocketFactory(), workload: (): Workload | undefined => store.workloadByUid('uid-b') };
    hbone = new InboundHbone(dp.inputs, pod);
    listener = createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as AddressInfo).port;
    hbone.attach(listener);
  });
  afterAll(() => {
    hbone?.close();
    listener?.close();
    dp?.close();
  });

  const session = (withCert: boolean): ClientHttp2Session => {
    const s = h2connect(`https://127.0.0.1:${port}`, {
      createConnection: () =>
        tlsConnect({
          host: '127.0.0.1',
          port,
          ALPNProtocols: ['h2'],
          ca: ca.rootsPem,
          checkServerIdentity: () => undefined,
          ...(withCert ? { cert: clientCert.certChainPem.join('\n'), key: clientCert.keyPem } : {}),
        }),
    });
    s.on('error', () => undefined);
    return s;
  };
  const request = (s: ClientHttp2Session, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const st = s.request(headers, { endStream: false });
      st.on('response', (h) => {
        resolve(Number(h[constants.HTTP2_HEADER_STATUS]));
        st.close();
      });
      st.on('error', reject);
    });
  const closedTotal = async (flag: string): Promise<number> => {
    const m = await registry.getSingleMetric('weft_tcp_connections_closed_total')!.get();
    return m.values.filter((v) => v.labels.response_flags === flag).reduce((n, v) => n + v.value, 0);
  };
  /**
   * The access-log lines a refusal made, exactly: waits for the first, then makes a marker refusal (a
   * malformed authority naming itself) and waits for its line, so that a second line for the same refusal
   * (logged twice) would be in between.
   */
  let markers = 0;
  const linesOf = async (before: number): Promise<AccessLine[]> => {
    await eventually(() => lines.length > before, 10_000, 'the refusal in the access log');
    const marker = `marker-${++markers}`;
    const s = session(true);
    await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: marker });
    s.destroy();
    const at = await eventually(() => { const i = lines.findIndex((l, k) => k >= before && l.dst.addr === marker); return i >= 0 && i; }, 10_000, 'the marker refusal in the access log');
    return lines.slice(before, at);
  };

  it('a non-CONNECT request: one access-log line BAD_REQUEST naming the code, and a closed metric', async () => {
    const before = lines.length;
    const closed = await closedTotal('BAD_REQUEST');
    const s = session(true);
    const status = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'GET', [constants.HTTP2_HEADER_PATH]: '/', [constants.HTTP2_HEADER_SCHEME]: 'https', [constants.HTTP2_HEADER_AUTHORITY]: 'x' });
    s.destroy();
    expect(status).toBe(405);
    await eventually(() => lines.length > before, 10_000, 'the refusal in the access log');
    expect(await closedTotal('BAD_REQUEST')).toBe(closed + 1);
    const got = await linesOf(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ outcome: 'BAD_REQUEST', direction: 'inbound', src: { ip: '127.0.0.1' }, dst: { workload: 'b', identity: 'spiffe://cluster.local/ns/shop/sa/sa-b' } });
    expect(got[0].reason).toContain('ERR_WEFT_HBONE_METHOD_NOT_ALLOWED');
  });

  it('a malformed :authority: BAD_REQUEST with the authority as destination', async () => {
    const before = lines.length;
    const closed = await closedTotal('BAD_REQUEST');
    const s = session(true);
    const status = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: 'not-an-address' });
    s.destroy();
    expect(status).toBe(400);
    await eventually(() => lines.length > before, 10_000, 'the refusal in the access log');
    expect(await closedTotal('BAD_REQUEST')).toBe(closed + 1);
    const got = await linesOf(before);
    expect(got).toHaveLength(1);
    expect(got[0].outcome).toBe('BAD_REQUEST');
    expect(got[0].reason).toContain('ERR_WEFT_HBONE_BAD_AUTHORITY');
    expect(got[0].dst.addr).toBe('not-an-address');
  });

  it('TLS without a client certificate: one TLS line with the peer IP (no port) and no identity', async () => {
    const before = lines.length;
    const closed = await closedTotal('TLS');
    const s = session(false);
    const goaway = new Promise<number>((resolve) => s.once('goaway', (code: number) => resolve(code)));
    const err = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: '127.0.0.1:9' }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    s.destroy();
    // The session is refused as a whole: GOAWAY INADEQUATE_SECURITY, the pending stream fails with it.
    expect(err?.code).toBe('ERR_HTTP2_SESSION_ERROR');
    expect(await goaway).toBe(constants.NGHTTP2_INADEQUATE_SECURITY);
    await eventually(() => lines.length > before, 10_000, 'the refusal in the access log');
    expect(await closedTotal('TLS')).toBe(closed + 1);
    const got = await linesOf(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ outcome: 'TLS', src: { ip: '127.0.0.1', identity: 'unknown' } });
    expect(got[0].reason).toContain('ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT');
  });

  it('a refusal the agent decides (CONNECT to an address that is not the pod) is logged once, by the agent', async () => {
    const before = lines.length;
    const s = session(true);
    const status = await request(s, { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: '10.1.2.3:80' });
    s.destroy();
    expect(status).toBe(403);
    const got = await linesOf(before);
    expect(got.map((l) => l.outcome)).toEqual(['UNKNOWN_DST']);
    expect(got[0].src.identity).toBe('spiffe://cluster.local/ns/shop/sa/sa-a');
  });
});
