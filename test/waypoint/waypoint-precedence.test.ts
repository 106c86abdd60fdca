// Pins Gateway API precedence ACROSS all routes attached to a Service port: Exact > longest PathPrefix >
// method > most headers > most query params > oldest route > namespace/name > rule order; and that
// `parentRef.port` narrows a route to one Service port.
import { describe, expect, it } from 'vitest';
import { compileRoute, type RequestFacts } from '../../waypoint/route/match.js';
import { orderMatches } from '../../waypoint/route/precedence.js';
import { route, type RouteInput } from './harness.js';
import type { Route } from '../../lib/model/index.js';

const parents = [{ namespace: 'demo', name: 'web' }];

function winner(routes: Route[], method: string, url: string, headers: Record<string, string> = {}): string {
  const q = url.indexOf('?');
  const f: RequestFacts = { method, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), header: (n) => headers[n] };
  const list = orderMatches(routes.flatMap(compileRoute));
  const m = list.find((x) => x.test(f));
  return m ? `${m.route.name}/${m.rule.name ?? m.ruleIndex}` : 'none';
}

const r = (name: string, rules: unknown[], extra: Partial<RouteInput> = {}) => route({ name, parents, rules: rules as never, ...extra });

const cases: Array<{ name: string; routes: Route[]; req: [string, string, Record<string, string>?]; want: string }> = [
  {
    name: 'exact beats a longer prefix in another route',
    routes: [r('a', [{ name: 'prefix', matches: [{ path: { type: 'PathPrefix', value: '/foo/bar' } }] }]), r('b', [{ name: 'exact', matches: [{ path: { type: 'Exact', value: '/foo/bar' } }] }])],
    req: ['GET', '/foo/bar'],
    want: 'b/exact',
  },
  {
    name: 'longest prefix wins across routes regardless of order',
    routes: [r('a', [{ name: 'short', matches: [{ path: { type: 'PathPrefix', value: '/foo' } }] }]), r('b', [{ name: 'long', matches: [{ path: { type: 'PathPrefix', value: '/foo/bar' } }] }])],
    req: ['GET', '/foo/bar/baz'],
    want: 'b/long',
  },
  {
    name: 'method match beats header matches at equal path',
    routes: [r('a', [{ name: 'headers', matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }] }, { name: 'method', matches: [{ method: 'GET' }] }])],
    req: ['GET', '/', { x: '1', y: '2' }],
    want: 'a/method',
  },
  {
    name: 'more headers beat fewer',
    routes: [r('a', [{ name: 'one', matches: [{ headers: [{ name: 'x', value: '1' }] }] }]), r('b', [{ name: 'two', matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }] }])],
    req: ['GET', '/', { x: '1', y: '2' }],
    want: 'b/two',
  },
  {
    name: 'more query params beat fewer',
    routes: [r('a', [{ name: 'none', matches: [{}] }, { name: 'q', matches: [{ queryParams: [{ name: 'v', value: '2' }] }] }])],
    req: ['GET', '/?v=2'],
    want: 'a/q',
  },
  {
    name: 'oldest route wins a full tie',
    routes: [r('a', [{ name: 'new' }], { creationTimestamp: '2024-02-01T00:00:00Z' }), r('b', [{ name: 'old' }], { creationTimestamp: '2024-01-01T00:00:00Z' })],
    req: ['GET', '/'],
    want: 'b/old',
  },
  {
    name: 'then alphabetical namespace/name',
    routes: [r('zeta', [{ name: 'z' }]), r('alpha', [{ name: 'a' }])],
    req: ['GET', '/'],
    want: 'alpha/a',
  },
  {
    name: 'then the first rule in list order',
    routes: [r('a', [{ name: 'first' }, { name: 'second' }])],
    req: ['GET', '/'],
    want: 'a/first',
  },
  {
    name: 'a prefix beats a regex',
    routes: [r('a', [{ name: 're', matches: [{ path: { type: 'RegularExpression', value: '/.*' } }] }, { name: 'p', matches: [{ path: { type: 'PathPrefix', value: '/' } }] }])],
    req: ['GET', '/x'],
    want: 'a/p',
  },
  {
    name: 'non-matching higher precedence is skipped',
    routes: [r('a', [{ name: 'exact', matches: [{ path: { type: 'Exact', value: '/x' } }] }, { name: 'catch' }])],
    req: ['GET', '/y'],
    want: 'a/catch',
  },
];

describe('waypoint route precedence', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(winner(c.routes, c.req[0], c.req[1], c.req[2])).toBe(c.want);
      // Precedence never depends on the order routes were listed in.
      expect(winner([...c.routes].reverse(), c.req[0], c.req[1], c.req[2])).toBe(c.want);
    });
  }
});
