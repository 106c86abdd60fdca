// Pins Gateway API matching: PathPrefix per path element (`/v2` never matches `/v2example`), trailing `/`
// ignored, Exact, anchored RegularExpression, case-insensitive header names, first query value, method,
// AND within a match, and GRPCRoute service/method.
import { describe, expect, it } from 'vitest';
import { compileRoute, queryParam, type RequestFacts } from '../../waypoint/route/match.js';
import { route } from './harness.js';

function facts(method: string, url: string, headers: Record<string, string> = {}): RequestFacts {
  const q = url.indexOf('?');
  return {
    method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    header: (n) => headers[n],
  };
}

const parents = [{ namespace: 'demo', name: 'web' }];

const cases: Array<{ name: string; match: Record<string, unknown>; req: RequestFacts; want: boolean }> = [
  { name: 'prefix /v2 matches /v2', match: { path: { type: 'PathPrefix', value: '/v2' } }, req: facts('GET', '/v2'), want: true },
  { name: 'prefix /v2 matches /v2/', match: { path: { type: 'PathPrefix', value: '/v2' } }, req: facts('GET', '/v2/'), want: true },
  { name: 'prefix /v2 matches /v2/x', match: { path: { type: 'PathPrefix', value: '/v2' } }, req: facts('GET', '/v2/x?a=b'), want: true },
  { name: 'prefix /v2 does not match /v2example', match: { path: { type: 'PathPrefix', value: '/v2' } }, req: facts('GET', '/v2example'), want: false },
  { name: 'prefix /v2/ (trailing slash) matches /v2', match: { path: { type: 'PathPrefix', value: '/v2/' } }, req: facts('GET', '/v2'), want: true },
  { name: 'prefix / matches everything', match: { path: { type: 'PathPrefix', value: '/' } }, req: facts('GET', '/anything'), want: true },
  { name: 'exact matches only the path', match: { path: { type: 'Exact', value: '/a' } }, req: facts('GET', '/a?x=1'), want: true },
  { name: 'exact does not match a longer path', match: { path: { type: 'Exact', value: '/a' } }, req: facts('GET', '/a/'), want: false },
  { name: 'regex is anchored', match: { path: { type: 'RegularExpression', value: '/u/[0-9]+' } }, req: facts('GET', '/u/12/x'), want: false },
  { name: 'regex matches', match: { path: { type: 'RegularExpression', value: '/u/[0-9]+' } }, req: facts('GET', '/u/12'), want: true },
  { name: 'header name is case-insensitive', match: { headers: [{ name: 'X-Env', value: 'canary' }] }, req: facts('GET', '/', { 'x-env': 'canary' }), want: true },
  { name: 'header value is case-sensitive', match: { headers: [{ name: 'x-env', value: 'canary' }] }, req: facts('GET', '/', { 'x-env': 'Canary' }), want: false },
  { name: 'header regex', match: { headers: [{ type: 'RegularExpression', name: 'x-env', value: 'can.*' }] }, req: facts('GET', '/', { 'x-env': 'canary' }), want: true },
  { name: 'missing header does not match', match: { headers: [{ name: 'x-env', value: 'canary' }] }, req: facts('GET', '/'), want: false },
  { name: 'query param exact', match: { queryParams: [{ name: 'v', value: '2' }] }, req: facts('GET', '/?a=1&v=2'), want: true },
  { name: 'query param first value counts', match: { queryParams: [{ name: 'v', value: '2' }] }, req: facts('GET', '/?v=1&v=2'), want: false },
  { name: 'query name is case-sensitive', match: { queryParams: [{ name: 'V', value: '2' }] }, req: facts('GET', '/?v=2'), want: false },
  { name: 'method', match: { method: 'POST' }, req: facts('GET', '/'), want: false },
  { name: 'all conditions must hold', match: { path: { type: 'PathPrefix', value: '/a' }, method: 'GET', headers: [{ name: 'x', value: '1' }] }, req: facts('GET', '/a', { x: '2' }), want: false },
];

describe('waypoint HTTPRoute matching', () => {
  for (const c of cases) {
    it(c.name, () => {
      const [m] = compileRoute(route({ name: 'r', parents, rules: [{ matches: [c.match] }] }));
      expect(m.test(c.req)).toBe(c.want);
    });
  }

  it('a rule without matches matches everything', () => {
    const [m] = compileRoute(route({ name: 'r', parents, rules: [{}] as never }));
    expect(m.test(facts('DELETE', '/x/y'))).toBe(true);
  });

  it('decodes query parameters', () => {
    expect(queryParam('a=b%20c&d', 'a')).toBe('b c');
    expect(queryParam('a=b&d', 'd')).toBe('');
    expect(queryParam('', 'a')).toBeUndefined();
  });
});

describe('waypoint GRPCRoute matching', () => {
  const grpc = (match: Record<string, unknown>) =>
    compileRoute(route({ kind: 'GRPCRoute', name: 'g', parents, rules: [{ matches: [match] }] }))[0];
  it('service and method exact', () => {
    const m = grpc({ method: { service: 'helloworld.Greeter', method: 'SayHello' } });
    expect(m.grpc).toBe(true);
    expect(m.test(facts('POST', '/helloworld.Greeter/SayHello'))).toBe(true);
    expect(m.test(facts('POST', '/helloworld.Greeter/SayBye'))).toBe(false);
  });
  it('service only', () => {
    const m = grpc({ method: { service: 'helloworld.Greeter' } });
    expect(m.test(facts('POST', '/helloworld.Greeter/Any'))).toBe(true);
    expect(m.test(facts('POST', '/other.Svc/Any'))).toBe(false);
  });
  it('regex method', () => {
    const m = grpc({ method: { type: 'RegularExpression', service: 'hello.*', method: 'Say.*' } });
    expect(m.test(facts('POST', '/helloworld.Greeter/SayHello'))).toBe(true);
  });
  it('headers only', () => {
    const m = grpc({ headers: [{ name: 'x-tenant', value: 'a' }] });
    expect(m.test(facts('POST', '/a.B/C', { 'x-tenant': 'a' }))).toBe(true);
    expect(m.test(facts('POST', '/a.B/C', { 'x-tenant': 'b' }))).toBe(false);
  });
});
