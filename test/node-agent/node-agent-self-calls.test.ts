// Pins that a connection to the agent's own in-pod listeners never makes the agent connect to itself.
// Before, each of these looped: 127.0.0.1:15001/15006 and <pod IP>:15001/15006 from the pod itself, the
// same pod-IP ports from a pod outside the mesh (default policy), and an HBONE CONNECT to
// <pod IP>:15001/15006/15008: every hop accepted a connection and opened the next one to itself, until
// the process ran out of file descriptors (EMFILE thrown from NetnsSocketFactory.connect, uncaught).
// Now each is refused at once with the flag SELF_CALL (access log with its ERR_WEFT_* code, metric),
// logged once, and the process's file descriptors come back to where they were.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { WorkloadCertificate } from '../../lib/identity/index.js';
import { WorkloadSchema } from '../../lib/model/index.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import type { PodProxy } from '../../node-agent/proxy/pod-proxy.js';
import { AgentMesh } from '../support/agent-mesh.js';
import { eventually } from '../support/eventually.js';
import { mintWorkloadCert } from '../support/pki.js';
import type { PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

interface AccessLine {
  outcome: string;
  reason?: string;
  code?: string;
  direction: string;
  dst: { addr: string };
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;

describeRoot('node-agent: no self-calls through the agent (needs root: network namespaces, nftables)', () => {
  const mesh = new AgentMesh();
  const { sb, store, registry } = mesh;
  const access = mesh.access.lines as unknown as AccessLine[];
  let a: PodNet, b: PodNet, c: PodNet;
  let cert: WorkloadCertificate;
  const proxies: PodProxy[] = [];
  // A loop opens thousands of sockets a second in this very process: stop the listeners (which ends the
  // loop: the next hop is refused) long before the process runs out of descriptors.
  let baseline = 0;
  let tripped = false;
  const guard = setInterval(() => {
    if (baseline === 0 || tripped || fdCount() < baseline + 1500) return;
    tripped = true;
    for (const p of proxies) p.stop();
  }, 10);

  beforeAll(async () => {
    [a, b, c] = await mesh.up('a', 'b', 'c');
    cert = await mintWorkloadCert(mesh.ca, 'shop', 'sa-c');
    const wl = (p: PodNet, name: string, captured: boolean) =>
      WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured, netns: p.path });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', true), wl(b, 'b', true), wl(c, 'c', false)], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    mesh.startDataplane();
    await mesh.app(a, { greet: false });
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) proxies.push(await mesh.enroll(p, name));
    // Certificates are fetched on first use: warm them so that the baseline holds no half-made session.
    // Both sides log the warm-up connection once it closed: then its sockets are gone.
    expect(await talk(b, a.ip, 8080)).toBe('hello');
    for (const direction of ['outbound', 'inbound']) await eventually(() => access.some((l) => l.direction === direction && l.dst.addr === `${a.ip}:8080`), 10_000, `warm-up ${direction} line`);
    baseline = fdCount();
  }, 60_000);
  afterAll(async () => {
    clearInterval(guard);
    await mesh.close();
  });

  /** Connects from a pod, sends `hello`, half-closes; what came back, or `ERR <code>` / `ERR timeout`. */
  function talk(from: PodNet, ip: string, port: number): Promise<string> {
    return sb.talk(from.ns, ip, port, 'hello', 5000);
  }

  const selfCalls = (addr: string): AccessLine[] => access.filter((l) => l.outcome === 'SELF_CALL' && l.dst.addr === addr);

  /** The process holds no more descriptors than before (a loop leaves thousands). */
  const settled = (): Promise<number> => eventually(() => (fdCount() <= baseline + 10 ? fdCount() : undefined), 10_000, `fd count back to ${baseline}`);

  const cases: [string, () => PodNet, () => string, number, string][] = [
    ['the pod itself → 127.0.0.1:15001', () => a, () => '127.0.0.1', 15001, 'outbound'],
    ['the pod itself → 127.0.0.1:15006', () => a, () => '127.0.0.1', 15006, 'inbound-plain'],
    ['the pod itself → its own IP:15001', () => a, () => a.ip, 15001, 'outbound'],
    ['the pod itself → its own IP:15006', () => a, () => a.ip, 15006, 'inbound-plain'],
    ['a pod outside the mesh → pod IP:15001', () => c, () => a.ip, 15001, 'inbound-plain'],
    ['a pod outside the mesh → pod IP:15006', () => c, () => a.ip, 15006, 'inbound-plain'],
    ['a captured pod → pod IP:15001 (HBONE CONNECT to :15001)', () => b, () => a.ip, 15001, 'inbound'],
    ['a captured pod → pod IP:15008 (HBONE CONNECT to :15008)', () => b, () => a.ip, 15008, 'inbound'],
  ];
  it.each(cases)('%s is refused once with SELF_CALL, no loop', async (_name, from, host, port, direction) => {
    expect(tripped).toBe(false);
    access.length = 0;
    const addr = `${host()}:${port}`;
    const out = await talk(from(), host(), port);
    // Reset at once (a loop would end in `ERR timeout`: the connection going round in circles).
    expect(out).toBe('ERR ECONNRESET');
    const line = await eventually(() => selfCalls(addr).find((l) => l.direction === direction), 5000, `SELF_CALL for ${addr}`);
    expect(line.reason).toMatch(/ERR_WEFT_(AGENT|HBONE)_SELF_/);
    await settled();
    expect(tripped).toBe(false);
    // Logged once where it was refused (a captured source also logs its own failed outbound once).
    expect(selfCalls(addr).filter((l) => l.direction === direction), JSON.stringify(access.filter((l) => l.dst.addr === addr))).toHaveLength(1);
    expect(access.filter((l) => l.dst.addr === addr).length).toBeLessThanOrEqual(2);
  });

  it('an HBONE CONNECT to the pod\'s own ports or loopback is answered 403 SELF_CALL', async () => {
    expect(tripped).toBe(false);
    const raw = new NetnsSocketFactory(c.path, 0).connect(a.ip, 15008);
    const tls = tlsConnect({ socket: raw, ALPNProtocols: ['h2'], ca: mesh.ca.rootsPem, checkServerIdentity: () => undefined, cert: cert.certChainPem.join('\n'), key: cert.keyPem });
    const s: ClientHttp2Session = h2connect(`https://${a.ip}:15008`, { createConnection: () => tls });
    s.on('error', () => undefined);
    try {
      for (const authority of [`${a.ip}:15001`, `${a.ip}:15006`, `${a.ip}:15008`, '127.0.0.1:15006', '127.0.0.1:8080', '0.0.0.0:15001']) {
        const res = await new Promise<{ status: number; reason: string; flag: string }>((resolve, reject) => {
          const st = s.request({ [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: authority }, { endStream: false });
          st.on('response', (h) => {
            resolve({ status: Number(h[constants.HTTP2_HEADER_STATUS]), reason: String(h['x-weft-reason'] ?? ''), flag: String(h['x-weft-flag'] ?? '') });
            st.close();
          });
          st.on('error', reject);
        });
        expect(res.status, authority).toBe(403);
        expect(res.flag, authority).toBe('SELF_CALL');
        expect(res.reason, authority).toMatch(/own listener|loopback/);
      }
    } finally {
      s.destroy();
    }
    await settled();
    const metrics = await registry.getSingleMetricAsString('weft_tcp_connections_closed_total');
    expect(metrics).toMatch(/response_flags="SELF_CALL"/);
  });
});
