// Pins the waypoint on real HBONE: a client's tunnel (mTLS with the CLIENT's certificate, as its node agent
// opens it) to VIP:port is routed and forwarded over a second HBONE tunnel to the endpoint pod (waypoint's
// own certificate, endpoint identity checked); L7 authorization and the backend see the original client's
// SPIFFE ID; another client identity is denied by an ALLOW policy; a VIP the waypoint does not serve is
// refused with 503 before any byte flows.
import { constants } from 'node:http2';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createHboneServer, HbonePool, type HboneServer } from '../../lib/hbone/index.js';
import type { CertificateAuthority, WorkloadCertificate } from '../../lib/identity/index.js';
import { SpiffeId } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { HboneConnector } from '../../waypoint/transport/hbone-connector.js';
import { createHboneInbound } from '../../waypoint/hbone-inbound.js';
import { eventually } from '../support/eventually.js';
import { mintCa, mintWorkloadCert } from '../support/pki.js';
import { CLIENT_ID, httpBackend, policy, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint over HBONE', () => {
  let ca: CertificateAuthority;
  let clientCert: WorkloadCertificate;
  let strangerCert: WorkloadCertificate;
  let waypointCert: WorkloadCertificate;
  let webCert: WorkloadCertificate;
  let web: Backend;
  let lab: Lab;
  let inbound: HboneServer;
  let endpointServer: HboneServer;
  let clientPool: HbonePool;
  let upstreamPool: HbonePool;
  let inboundPort: number;
  const endpointPeers: string[] = [];

  beforeAll(async () => {
    ca = await mintCa();
    [clientCert, strangerCert, waypointCert, webCert] = await Promise.all([
      mintWorkloadCert(ca, 'demo', 'client'),
      mintWorkloadCert(ca, 'other', 'stranger'),
      mintWorkloadCert(ca, 'demo', 'waypoint'),
      mintWorkloadCert(ca, 'demo', 'web'),
    ]);
    web = await httpBackend((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`${req.url} xfcc=${String(req.headers['x-forwarded-client-cert'])}${n > 0 ? ` len=${n}` : ''}`));
    });
    // The endpoint pod's HBONE listener (its node agent's, in the mesh): checks who calls, then connects to the app.
    endpointServer = createHboneServer({
      certificate: webCert,
      trustRoots: ca.rootsPem,
      authorize: (peer) => {
        endpointPeers.push(String(peer));
        return { allow: true };
      },
      connectUpstream: (target) =>
        new Promise<Duplex>((resolve, reject) => {
          const s = netConnect(target.port, web.ip);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    });
    const ep = await endpointServer.listen(0, web.ip);
    upstreamPool = new HbonePool({ logger: silentLogger });
    const connector = new HboneConnector({
      pool: upstreamPool,
      source: waypointCert.identity,
      certificate: () => Promise.resolve(waypointCert),
      trustRoots: () => ca.rootsPem,
      port: ep.port,
    });
    lab = await startLab({ connector });
    const s = service('web', '10.96.3.1', 80, [web], { portName: 'http' });
    // The endpoint's workload runs as demo/web: the waypoint must find web's identity from the workload.
    s.workloads[0].serviceAccount = 'web';
    // Opaque TCP with no endpoint: the waypoint accepts the tunnel (the Service is its own) and then cannot forward it.
    const db = service('db', '10.96.3.2', 5432, [], { portName: 'tcp' });
    lab.setState({
      services: [s.service, db.service],
      workloads: s.workloads,
      routes: [route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })],
      policies: [policy({ name: 'only-demo', targets: [{ kind: 'gateway', name: 'waypoint' }], action: 'ALLOW', rules: [{ from: [{ namespaces: ['demo'] }] }] })],
    });
    inbound = createHboneInbound({ waypoint: lab.waypoint, certificate: waypointCert, trustRoots: ca.rootsPem, log: silentLogger });
    inboundPort = (await inbound.listen(0, '127.0.0.1')).port;
    clientPool = new HbonePool({ logger: silentLogger });
  });
  afterAll(async () => {
    clientPool.close({ force: true });
    upstreamPool.close({ force: true });
    await inbound.close({ graceMs: 0 });
    await endpointServer.close({ graceMs: 0 });
    await lab.close();
    await web.close();
  });

  /** An undici pool whose connections are HBONE tunnels from `cert` to the waypoint for `authority`. */
  function tunnelPool(cert: WorkloadCertificate, authority: string): Pool {
    return new Pool('http://web.demo', {
      connections: 4,
      connect: (_o, cb) => {
        clientPool
          .connect({ source: cert.identity, destination: waypointCert.identity, nextHop: { host: '127.0.0.1', port: inboundPort }, authority, certificate: cert, trustRoots: ca.rootsPem, forwardedFor: '10.244.1.9' })
          .then(
            (s) => cb(null, Object.assign(s, { ref: () => s, unref: () => s }) as never),
            (e: Error) => cb(e, null),
          );
      },
    });
  }

  it('a POST body crosses both tunnels intact (writev through tunnel streams)', async () => {
    const p = tunnelPool(clientCert, '10.96.3.1:80');
    const body = Buffer.alloc(50_000, 'z');
    const r = await p.request({ method: 'POST', path: '/post', body });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe(`/post xfcc=By=spiffe://cluster.local/ns/demo/sa/waypoint;URI=${CLIENT_ID} len=${body.length}`);
    await p.close();
  });

  it('routes through two tunnels and keeps the client identity', async () => {
    const p = tunnelPool(clientCert, '10.96.3.1:80');
    for (let i = 0; i < 5; i++) {
      const r = await p.request({ method: 'GET', path: `/hello/${i}` });
      expect(r.statusCode).toBe(200);
      expect(await r.body.text()).toBe(`/hello/${i} xfcc=By=spiffe://cluster.local/ns/demo/sa/waypoint;URI=${CLIENT_ID}`);
    }
    await p.close();
    // Upstream tunnels present the waypoint's own identity, never the client's.
    expect(new Set(endpointPeers)).toEqual(new Set(['spiffe://cluster.local/ns/demo/sa/waypoint']));
    const metrics = await lab.registry.metrics();
    expect(metrics).toContain(`source_principal="${CLIENT_ID}"`);
  });

  it('authorization sees the HBONE peer: another namespace is denied', async () => {
    const p = tunnelPool(strangerCert, '10.96.3.1:80');
    const r = await p.request({ method: 'GET', path: '/' });
    expect(r.statusCode).toBe(403);
    expect(r.headers['x-weft-reason']).toBe('policy_denied');
    await r.body.text();
    await p.close();
    expect(SpiffeId.parse(CLIENT_ID).namespace).toBe('demo');
  });

  it('an opaque TCP tunnel it cannot forward is reset with CONNECT_ERROR after the 200, not ended cleanly', async () => {
    const t = await clientPool.connect({ source: clientCert.identity, destination: waypointCert.identity, nextHop: { host: '127.0.0.1', port: inboundPort }, authority: '10.96.3.2:5432', certificate: clientCert, trustRoots: ca.rootsPem });
    t.on('error', () => undefined);
    t.resume();
    // The source agent reads this code to log the reset (a plain destroy sends NO_ERROR, which reads as ok).
    await eventually(() => t.destroyed && t.rstCode !== undefined, 10_000, 'the tunnel to close');
    expect(t.rstCode).toBe(constants.NGHTTP2_CONNECT_ERROR);
  });

  it('a VIP the waypoint does not serve is refused with 503', async () => {
    await expect(
      clientPool.connect({ source: clientCert.identity, destination: waypointCert.identity, nextHop: { host: '127.0.0.1', port: inboundPort }, authority: '10.96.9.9:80', certificate: clientCert, trustRoots: ca.rootsPem }),
    ).rejects.toThrow(/503|no Service/);
  });
});
