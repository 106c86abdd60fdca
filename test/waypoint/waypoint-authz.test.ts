// Pins L7 authorization at the waypoint (Istio semantics): a DENY on `POST /admin*` answers 403 with a
// reason (body and x-weft-reason) while `GET /` passes and nothing denied reaches the backend; an ALLOW
// policy on principals admits the tunnel's peer identity and refuses another; policies targeting another
// Service do not apply; the backend sees the client's SPIFFE ID (x-forwarded-client-cert).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, policy, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint L7 authorization', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  let strangerPort: number;
  let apiPort: number;
  let seen: string[] = [];

  beforeAll(async () => {
    web = await httpBackend((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end(String(req.headers['x-forwarded-client-cert']));
    });
    lab = await startLab();
    const s = service('web', '10.96.0.50', 80, [web]);
    const api = service('api', '10.96.0.51', 80, [web]);
    const rt = (name: string) => route({ name, parents: [{ namespace: 'demo', name }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name }, port: 80 }] }] });
    lab.setState({
      services: [s.service, api.service],
      workloads: s.workloads,
      routes: [rt('web'), rt('api')],
      policies: [
        policy({ name: 'deny-admin', targets: [{ kind: 'service', name: 'web' }], action: 'DENY', rules: [{ from: [], to: [{ methods: ['POST'], paths: ['/admin*'] }] }] }),
        // Applies through the Gateway to every Service; only the client principal may call api.
        policy({ name: 'api-allow-client', targets: [{ kind: 'service', name: 'api' }], action: 'ALLOW', rules: [{ from: [{ principals: [CLIENT_ID] }], to: [] }] }),
        // Targets another Service: must not apply to web.
        policy({ name: 'other', targets: [{ kind: 'service', name: 'other' }], action: 'DENY', rules: [{ from: [], to: [] }] }),
      ],
    });
    port = await lab.listen('10.96.0.50:80');
    apiPort = await lab.listen('10.96.0.51:80');
    strangerPort = await lab.listen('10.96.0.51:80', 'spiffe://cluster.local/ns/other/sa/stranger');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
  });

  it('DENY POST /admin → 403 with a reason, never forwarded', async () => {
    seen = [];
    const r = await request(`http://127.0.0.1:${port}/admin/users`, { method: 'POST', body: 'x' });
    expect(r.statusCode).toBe(403);
    expect(r.headers['x-weft-reason']).toBe('DENY: DENY policy demo/deny-admin matched');
    expect(await r.body.text()).toContain('RBAC: access denied');
    expect(seen).toEqual([]);
  });

  it('GET / and GET /admin pass', async () => {
    for (const [method, path] of [['GET', '/'], ['GET', '/admin']] as const) {
      const r = await request(`http://127.0.0.1:${port}${path}`, { method });
      expect(r.statusCode).toBe(200);
      await r.body.text();
    }
  });

  it('the backend sees the client SPIFFE ID, and a client cannot forge it', async () => {
    const r = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/x/sa/forged' } });
    expect(await r.body.text()).toBe(`By=spiffe://cluster.local/ns/demo/sa/waypoint;URI=${CLIENT_ID}`);
  });

  it('ALLOW on principals admits the peer identity and refuses another', async () => {
    const ok = await request(`http://127.0.0.1:${apiPort}/`);
    expect(ok.statusCode).toBe(200);
    await ok.body.text();
    const no = await request(`http://127.0.0.1:${strangerPort}/`);
    expect(no.statusCode).toBe(403);
    expect(no.headers['x-weft-reason']).toBe('DENY: no ALLOW policy matched');
    await no.body.text();
  });
});
