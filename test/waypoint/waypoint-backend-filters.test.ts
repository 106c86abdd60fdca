// Pins backendRef filters at the waypoint (httproute_types.go HTTPBackendRef.filters): a backendRef's own
// RequestHeaderModifier, ResponseHeaderModifier and URLRewrite act only on the requests sent to that
// backend, after the rule's filters, and a RequestRedirect there answers for its share. The failure this
// pins: backendRef filters were dropped on the way to the waypoint while the route said Accepted. No
// filter can forge the client identity the waypoint sends upstream (x-forwarded-client-cert).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint backendRef filters', () => {
  let lab: Lab;
  let v1: Backend;
  let v2: Backend;
  let port: number;

  beforeAll(async () => {
    const echo = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('x-from', name);
      res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
    };
    v1 = await httpBackend(echo('v1'));
    v2 = await httpBackend(echo('v2'));
    lab = await startLab();
    const web = service('web', '10.96.8.1', 80, [v1]);
    const s1 = service('web-v1', '10.96.8.2', 80, [v1]);
    const s2 = service('web-v2', '10.96.8.3', 80, [v2]);
    lab.setState({
      services: [web.service, s1.service, s2.service],
      workloads: [...s1.workloads, ...s2.workloads],
      routes: [
        route({
          name: 'split',
          parents: [{ namespace: 'demo', name: 'web' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
              filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-rule', value: 'r' }, { name: 'x-which', value: 'rule' }] } }],
              backendRefs: [
                {
                  service: { namespace: 'demo', name: 'web-v1' },
                  port: 80,
                  filters: [
                    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-which', value: 'v1' }, { name: 'x-forwarded-client-cert', value: 'URI=spiffe://forged' }] } },
                    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-resp', value: 'v1' }], remove: ['x-from'] } },
                  ],
                },
                {
                  service: { namespace: 'demo', name: 'web-v2' },
                  port: 80,
                  filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }],
                },
              ],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/moved' } }],
              backendRefs: [{ service: { namespace: 'demo', name: 'web-v1' }, port: 80, filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'new.example', statusCode: 308 } }] }],
            },
          ],
        }),
      ],
    });
    port = await lab.listen('10.96.8.1:80');
  });
  afterAll(async () => {
    await lab.close();
    await v1.close();
    await v2.close();
  });

  it('each backend gets only its own filters, after the rule filters', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await request(`http://127.0.0.1:${port}/api/items`);
      const j = (await r.body.json()) as { name: string; url: string; headers: Record<string, string> };
      seen.add(j.name);
      expect(j.headers['x-rule']).toBe('r');
      if (j.name === 'v1') {
        expect(j.headers['x-which']).toBe('v1');
        expect(j.url).toBe('/api/items');
        expect(r.headers['x-resp']).toBe('v1');
        expect(r.headers['x-from']).toBeUndefined();
        // The identity header is the waypoint's, whatever a filter sets.
        expect(j.headers['x-forwarded-client-cert']).toBe(`By=spiffe://cluster.local/ns/demo/sa/waypoint;URI=${CLIENT_ID}`);
      } else {
        expect(j.headers['x-which']).toBe('rule');
        expect(j.url).toBe('/v2/items');
        expect(r.headers['x-resp']).toBeUndefined();
        expect(r.headers['x-from']).toBe('v2');
      }
    }
    expect([...seen].sort()).toEqual(['v1', 'v2']);
  });

  it('a RequestRedirect on a backendRef answers with the redirect', async () => {
    const r = await request(`http://127.0.0.1:${port}/moved/x`, { headers: { host: 'web.demo' } });
    await r.body.text();
    expect(r.statusCode).toBe(308);
    expect(r.headers.location).toBe('http://new.example/moved/x');
  });
});
