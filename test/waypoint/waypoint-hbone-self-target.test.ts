// Pins that the waypoint's HBONE inbound refuses a CONNECT to loopback or to its own HBONE/capture ports
// with 403 SELF_CALL (ERR_WEFT_HBONE_SELF_TARGET) before resolving it — even when cluster state would
// resolve the address (a Service "VIP" on loopback): such a tunnel leads back into a proxy on this host.
// Before, the loopback VIP was served. A normal VIP is served as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeftError, type WeftError } from '../../lib/errors/index.js';
import { HbonePool, type HboneServer } from '../../lib/hbone/index.js';
import type { CertificateAuthority, WorkloadCertificate } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createHboneInbound } from '../../waypoint/hbone-inbound.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint HBONE inbound: no CONNECT to itself', () => {
  let ca: CertificateAuthority;
  let clientCert: WorkloadCertificate;
  let waypointCert: WorkloadCertificate;
  let web: Backend;
  let lab: Lab;
  let inbound: HboneServer;
  let inboundPort: number;
  let pool: HbonePool;
  const refused: WeftError[] = [];

  beforeAll(async () => {
    ca = await mintCa();
    [clientCert, waypointCert] = await Promise.all([mintWorkloadCert(ca, 'demo', 'client'), mintWorkloadCert(ca, 'demo', 'waypoint')]);
    web = await httpBackend((_req, res) => res.end('web'));
    lab = await startLab();
    const normal = service('web', '10.96.3.1', 80, [web]);
    const onLoopback = service('lo', '127.0.0.53', 80, [web]);
    lab.setState({
      services: [normal.service, onLoopback.service],
      workloads: [...normal.workloads, ...onLoopback.workloads],
      routes: ['web', 'lo'].map((name) => route({ name, parents: [{ namespace: 'demo', name }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name }, port: 80 }] }] })),
    });
    inbound = createHboneInbound({ waypoint: lab.waypoint, certificate: waypointCert, trustRoots: ca.rootsPem, log: silentLogger });
    inbound.on('refused', (err: WeftError) => refused.push(err));
    inboundPort = (await inbound.listen(0, '127.0.0.1')).port;
    pool = new HbonePool({ logger: silentLogger });
  });
  afterAll(async () => {
    pool.close({ force: true });
    await inbound.close({ graceMs: 0 });
    await lab.close();
    await web.close();
  });

  const connect = (authority: string) =>
    pool.connect({ source: clientCert.identity, destination: waypointCert.identity, nextHop: { host: '127.0.0.1', port: inboundPort }, authority, certificate: clientCert, trustRoots: ca.rootsPem });

  it.each([['127.0.0.53:80'], ['127.0.0.1:<hbone>'], ['[::1]:15008']])('refuses CONNECT %s with 403 SELF_CALL', async (template) => {
    const authority = template.replace('<hbone>', String(inboundPort));
    const err = await connect(authority).then(
      () => new Error('expected a refusal'),
      (e: unknown) => e,
    );
    expect(isWeftError(err) && err.code).toBe('ERR_WEFT_HBONE_DENIED');
    expect((err as WeftError).params.status).toBe(403);
    expect(refused.at(-1)).toMatchObject({ code: 'ERR_WEFT_HBONE_SELF_TARGET', flag: 'SELF_CALL' });
  });

  it('serves a normal VIP', async () => {
    const stream = await connect('10.96.3.1:80');
    // Not half-closed: the waypoint answers and closes (connection: close).
    stream.write('GET / HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*web$/);
  });
});
