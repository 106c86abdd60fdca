// Pins pass-through at the waypoint (GAMMA, Istio): a Service port behind a waypoint that no route
// matches is forwarded unchanged to the Service's own endpoints, balanced across them, still under L7
// authorization and counted in the golden metrics. That holds with no route at all, with a route on
// another port, and with a route for another hostname. The failure this pins: each of those requests got
// `404 NO_ROUTE`, so enrolling a namespace in a waypoint took every HTTP Service of it down. A route that
// is attached (port and hostname) but whose rules match nothing still answers 404 (Gateway API).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, policy, route, samePortBackends, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint pass-through', () => {
  let lab: Lab;
  let pods: Backend[];
  let canary: Backend;
  let bare: number; // Service with no route at all
  let port80: number; // Service whose only route is on port 8080
  let port8080: number;
  let hosted: number; // Service whose route is for hostname canary.example only

  beforeAll(async () => {
    pods = await samePortBackends(2, (req, res, b) => res.end(JSON.stringify({ pod: b.ip, url: req.url, headers: req.headers })));
    canary = await httpBackend((req, res) => res.end(JSON.stringify({ pod: 'canary', url: req.url, headers: req.headers })));
    lab = await startLab();
    const plain = service('plain', '10.96.7.1', 80, pods);
    const web = service('web', '10.96.7.2', 80, pods);
    web.service.ports.push({ name: 'http-alt', port: 8080, targetPort: pods[0].port });
    const hosts = service('hosts', '10.96.7.3', 80, pods);
    const can = service('canary', '10.96.7.9', 80, [canary]);
    const toCanary = [{ service: { namespace: 'demo', name: 'canary' }, port: 80 }];
    lab.setState({
      services: [plain.service, web.service, hosts.service, can.service],
      workloads: [...plain.workloads, ...can.workloads],
      routes: [
        route({ name: 'web-8080', parents: [{ namespace: 'demo', name: 'web', port: 8080 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/only' } }], backendRefs: toCanary }] }),
        route({
          name: 'hosts-canary',
          parents: [{ namespace: 'demo', name: 'hosts' }],
          hostnames: ['canary.example', 'hosts.demo.svc.cluster.local'],
          rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/only' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-routed', value: '1' }] } }], backendRefs: toCanary }],
        }),
      ],
      policies: [policy({ name: 'deny-admin', targets: [{ kind: 'service', name: 'plain' }], action: 'DENY', rules: [{ from: [], to: [{ paths: ['/admin*'] }] }] })],
    });
    bare = await lab.listen('10.96.7.1:80');
    port80 = await lab.listen('10.96.7.2:80');
    port8080 = await lab.listen('10.96.7.2:8080');
    hosted = await lab.listen('10.96.7.3:80');
  });
  afterAll(async () => {
    await lab.close();
    for (const p of pods) await p.close();
    await canary.close();
  });

  async function get(port: number, path: string, host?: string): Promise<{ status: number; reason: unknown; body: { pod?: string; url?: string; headers?: Record<string, string> } }> {
    const r = await request(`http://127.0.0.1:${port}${path}`, host ? { headers: { host } } : {});
    const text = await r.body.text();
    return { status: r.statusCode, reason: r.headers['x-weft-reason'], body: r.statusCode === 200 ? (JSON.parse(text) as { pod: string }) : {} };
  }

  it('no route at all: forwarded unchanged to the Service, balanced over its endpoints', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await get(bare, `/items/${i}?q=1`, 'plain.demo');
      expect(r.status).toBe(200);
      expect(r.body.url).toBe(`/items/${i}?q=1`);
      expect(r.body.headers?.host).toBe('plain.demo');
      seen.add(r.body.pod!);
    }
    expect([...seen].sort()).toEqual(pods.map((p) => p.ip).sort());
  });

  it('a route on another port of the Service does not capture this port', async () => {
    const r = await get(port80, '/only/x');
    expect(r.status).toBe(200);
    expect(pods.map((p) => p.ip)).toContain(r.body.pod);
    // The route's own port still routes.
    expect((await get(port8080, '/only/x')).body.pod).toBe('canary');
  });

  it('a route for another hostname passes the request through; its own hostname is routed', async () => {
    const through = await get(hosted, '/only/x', 'elsewhere.example:80');
    expect(through.status).toBe(200);
    expect(pods.map((p) => p.ip)).toContain(through.body.pod);
    expect(through.body.headers?.['x-routed']).toBeUndefined();
    const routed = await get(hosted, '/only/x', 'canary.example:80');
    expect(routed.body.pod).toBe('canary');
    expect(routed.body.headers?.['x-routed']).toBe('1');
    // The short names of the parent Service are names of its FQDN.
    expect((await get(hosted, '/only/x', 'hosts')).body.pod).toBe('canary');
    expect((await get(hosted, '/only/x', 'HOSTS.demo.svc')).body.pod).toBe('canary');
  });

  it('a route that is attached but whose rules match nothing still answers 404', async () => {
    const r = await get(hosted, '/elsewhere', 'canary.example');
    expect(r.status).toBe(404);
    expect(r.reason).toBe('NO_ROUTE');
  });

  it('pass-through is still under L7 authorization', async () => {
    const r = await get(bare, '/admin/x');
    expect(r.status).toBe(403);
  });

  it('pass-through requests are counted with route="passthrough" and the Service as backend', async () => {
    await get(bare, '/counted');
    const text = await lab.registry.metrics();
    expect(text).toMatch(new RegExp(`weft_requests_total\\{[^}]*source_principal="${CLIENT_ID}",destination_service="plain.demo.svc.cluster.local"[^}]*response_code="200"[^}]*route="passthrough",backend="demo/plain:80"\\} \\d+`));
  });
});
