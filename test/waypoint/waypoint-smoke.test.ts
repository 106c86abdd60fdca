// Pins the basic path: an HTTP/1.1 request through a tunnel reaches the Service's endpoint and comes back,
// and the parent Service is chosen by the tunnel's destination VIP, never by the Host header (GAMMA).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint smoke', () => {
  let lab: Lab;
  let b: Backend;
  let port: number;
  beforeAll(async () => {
    b = await httpBackend((req, res) => res.end(`hello ${req.url} ${String(req.headers['x-weft-attempt'])} ${String(req.headers['x-forwarded-client-cert'])}`));
    lab = await startLab();
    const s = service('web', '10.96.0.10', 80, [b]);
    lab.setState({ services: [s.service], workloads: s.workloads, routes: [route({ name: 'r', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })] });
    const other = service('other', '10.96.0.99', 80, []);
    lab.setState({
      services: [s.service, other.service],
      workloads: s.workloads,
      routes: [
        route({ name: 'r', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] }),
        route({ name: 'o', parents: [{ namespace: 'demo', name: 'other' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'other' }, port: 80 }] }] }),
      ],
    });
    port = await lab.listen('10.96.0.10:80');
  });
  afterAll(async () => {
    await lab.close();
    await b.close();
  });
  it('routes by VIP: a Host header naming another Service changes nothing', async () => {
    const r = await request(`http://127.0.0.1:${port}/h`, { headers: { host: 'other.demo.svc.cluster.local' } });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toMatch(/^hello \/h 1 /);
  });

  it('forwards a GET', async () => {
    const r = await request(`http://127.0.0.1:${port}/x?y=1`);
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('hello /x?y=1 1 By=spiffe://cluster.local/ns/demo/sa/waypoint;URI=spiffe://cluster.local/ns/demo/sa/client');
  });
});
