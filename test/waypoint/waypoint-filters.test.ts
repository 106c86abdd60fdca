// Pins each HTTPRoute filter through the real proxy path: RequestHeaderModifier (set overwrites, add
// appends with ',', remove), ResponseHeaderModifier, RequestRedirect (Location, status, port rules),
// URLRewrite (hostname, ReplaceFullPath, ReplacePrefixMatch), RequestMirror (copy sent, response unaffected
// even when the mirror is slow or down), and parentRef.port narrowing a route to one Service port (the
// other port has no route and passes through unfiltered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';
import { replacePrefix, redirectLocation } from '../../waypoint/route/filters.js';

describe('waypoint filters', () => {
  let lab: Lab;
  let echo: Backend;
  let mirror: Backend;
  let port: number;
  let port8080: number;
  const mirrored: Array<{ url: string; body: string }> = [];

  beforeAll(async () => {
    echo = await httpBackend((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.setHeader('x-backend-header', 'orig');
        res.setHeader('x-remove-me', 'x');
        res.end(JSON.stringify({ url: req.url, headers: req.headers, body }));
      });
    });
    mirror = await httpBackend((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        mirrored.push({ url: req.url!, body });
        // A slow mirror must not delay the real response.
        setTimeout(() => res.end('mirror'), 2_000);
      });
    });
    lab = await startLab();
    const web = service('web', '10.96.0.10', 80, [echo]);
    web.service.ports.push({ name: 'http-alt', port: 8080, targetPort: echo.port });
    const m = service('mirror', '10.96.0.11', 80, [mirror]);
    const ref = [{ service: { namespace: 'demo', name: 'web' }, port: 80 }];
    lab.setState({
      services: [web.service, m.service],
      workloads: [...web.workloads, ...m.workloads],
      routes: [
        route({
          name: 'filters',
          parents: [{ namespace: 'demo', name: 'web', port: 80 }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/headers' } }],
              filters: [
                { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'set' }], add: [{ name: 'X-Add', value: 'added' }], remove: ['x-remove'] } },
                { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-backend-header', value: 'changed' }], add: [{ name: 'x-resp-add', value: 'r' }], remove: ['x-remove-me'] } },
              ],
              backendRefs: ref,
            },
            { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' }, statusCode: 301 } }] },
            { matches: [{ path: { type: 'Exact', value: '/https' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'example.com' } }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/api/v1' } }], filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.local', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }], backendRefs: ref },
            { matches: [{ path: { type: 'PathPrefix', value: '/full' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/replaced' } } }], backendRefs: ref },
            { matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { service: { namespace: 'demo', name: 'mirror' }, port: 80, weight: 1 } } }], backendRefs: ref },
          ],
        }),
      ],
    });
    port = await lab.listen('10.96.0.10:80');
    port8080 = await lab.listen('10.96.0.10:8080');
  });
  afterAll(async () => {
    await lab.close();
    await echo.close();
    await mirror.close();
  });

  it('RequestHeaderModifier: set overwrites, add appends, remove drops', async () => {
    const r = await request(`http://127.0.0.1:${port}/headers`, { headers: { 'x-set': 'client', 'x-add': 'client', 'x-remove': 'gone' } });
    const j = (await r.body.json()) as { headers: Record<string, string> };
    expect(j.headers['x-set']).toBe('set');
    expect(j.headers['x-add']).toBe('client,added');
    expect(j.headers['x-remove']).toBeUndefined();
  });

  it('ResponseHeaderModifier changes only the response', async () => {
    const r = await request(`http://127.0.0.1:${port}/headers`);
    await r.body.text();
    expect(r.headers['x-backend-header']).toBe('changed');
    expect(r.headers['x-resp-add']).toBe('r');
    expect(r.headers['x-remove-me']).toBeUndefined();
  });

  it('RequestRedirect with ReplacePrefixMatch and 301, keeping the listener (Service) port', async () => {
    const r = await request(`http://127.0.0.1:${port}/old/page?q=1`, { headers: { host: 'web.demo:80' } });
    await r.body.text();
    expect(r.statusCode).toBe(301);
    expect(r.headers.location).toBe('http://web.demo/new/page?q=1');
  });

  it('RequestRedirect to https drops the well-known port', async () => {
    const r = await request(`http://127.0.0.1:${port}/https`, { headers: { host: 'web.demo' } });
    await r.body.text();
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('https://example.com/https');
  });

  it('URLRewrite hostname and prefix', async () => {
    const r = await request(`http://127.0.0.1:${port}/api/v1/users?id=3`);
    const j = (await r.body.json()) as { url: string; headers: Record<string, string> };
    expect(j.url).toBe('/v2/users?id=3');
    expect(j.headers.host).toBe('rewritten.local');
  });

  it('URLRewrite full path', async () => {
    const r = await request(`http://127.0.0.1:${port}/full/x/y`);
    const j = (await r.body.json()) as { url: string };
    expect(j.url).toBe('/replaced');
  });

  it('RequestMirror sends a copy and does not wait for the mirror', async () => {
    const t0 = performance.now();
    const r = await request(`http://127.0.0.1:${port}/mirror/a`, { method: 'POST', body: 'payload' });
    const j = (await r.body.json()) as { body: string };
    expect(r.statusCode).toBe(200);
    expect(j.body).toBe('payload');
    expect(performance.now() - t0).toBeLessThan(1_500);
    await expect.poll(() => mirrored.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(mirrored[0]).toEqual({ url: '/mirror/a', body: 'payload' });
  });

  it('a mirror that is down never affects the response', async () => {
    await mirror.close();
    const r = await request(`http://127.0.0.1:${port}/mirror/b`);
    expect(r.statusCode).toBe(200);
    await r.body.text();
  });

  it('parentRef.port narrows the route to its port: port 8080 has no route and passes through unchanged', async () => {
    const r = await request(`http://127.0.0.1:${port8080}/headers`, { headers: { 'x-remove': 'kept' } });
    expect(r.statusCode).toBe(200);
    const j = (await r.body.json()) as { url: string; headers: Record<string, string> };
    expect(j.url).toBe('/headers');
    expect(j.headers['x-set']).toBeUndefined();
    expect(j.headers['x-remove']).toBe('kept');
    expect(r.headers['x-backend-header']).toBe('orig');
  });
});

describe('ReplacePrefixMatch table (httproute_types.go)', () => {
  const table: Array<[string, string, string, string]> = [
    ['/foo', '/xyz', '/foo/bar', '/xyz/bar'],
    ['/foo', '/xyz', '/foo', '/xyz'],
    ['/foo', '/xyz/', '/foo/bar', '/xyz/bar'],
    ['/foo/', '/xyz', '/foo/bar', '/xyz/bar'],
    ['/foo/', '/xyz/', '/foo/bar', '/xyz/bar'],
    ['/foo', '/', '/foo', '/'],
    ['/foo', '/', '/foo/bar', '/bar'],
    ['/foo/', '/', '/foo/', '/'],
    ['/', '/xyz', '/bar', '/xyz/bar'],
  ];
  for (const [prefix, repl, path, want] of table) {
    it(`${prefix} → ${repl}: ${path} = ${want}`, () => expect(replacePrefix(path, prefix, repl)).toBe(want));
  }
  it('redirect with explicit port shows it', () => {
    expect(redirectLocation({ statusCode: 302, port: 8443, scheme: 'https' }, { scheme: 'http', host: 'a:80', path: '/p', query: '', listenerPort: 80 }, undefined)).toBe('https://a:8443/p');
    expect(redirectLocation({ statusCode: 302 }, { scheme: 'http', host: 'a', path: '/p', query: '', listenerPort: 8080 }, undefined)).toBe('http://a:8080/p');
  });
});
