// Pins backendRef filters through the control plane: an HTTPRoute's `backendRefs[].filters`
// (RequestHeaderModifier, ResponseHeaderModifier, URLRewrite…) are compiled into the route table next to
// the rule's filters. The failure this pins: they were dropped while the route's status said Accepted and
// ResolvedRefs. A filter weft does not implement (ExtensionRef, CORS), on a rule or on a backendRef, makes
// the route Accepted=False/UnsupportedValue on every parent, and such a route is in no route table: never
// Accepted while dropping part of itself, never in effect while not Accepted.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { asKind, listOf } from '../../control/sources/schemas.js';
import { routeStatus } from '../../control/status/routes.js';
import { clusterDir, service, waypointGateway, type ClusterDir } from './compile-fixtures.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const header = (name: string, value: string) => ({ set: [{ name, value }] });

function httpRoute(name: string, rule: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [rule] },
  };
}

const fixtures = () => [
  waypointGateway('wp'),
  service('wp', { ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
  service('web', { labels: { 'weft.dev/use-waypoint': 'wp' } }),
  service('web-v1', { ip: '10.96.0.11', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('web-v2', { ip: '10.96.0.12', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
];

describe('backendRef filters in the control plane', () => {
  it('compiles backendRef filters into the route table and reports the route Accepted', async () => {
    cluster = await clusterDir([
      ...fixtures(),
      httpRoute('split', {
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: header('x-rule', '1') }],
        backendRefs: [
          {
            name: 'web-v1',
            port: 80,
            weight: 1,
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: header('x-backend', 'v1') },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
            ],
          },
          { name: 'web-v2', port: 80, weight: 1, filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }] },
          { name: 'web-v1', port: 80, weight: 0 },
        ],
      }),
    ]);
    const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    c.rebuild();
    const rule = c.routeTables.get('default/wp')!.value.routes[0].rules[0];
    expect(rule.filters).toEqual([{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-rule', value: '1' }], add: [], remove: [] } }]);
    expect(rule.backendRefs[0].filters).toEqual([
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value: 'v1' }], add: [], remove: [] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [], add: [], remove: ['server'] } },
    ]);
    expect(rule.backendRefs[1].filters).toEqual([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }]);
    expect(rule.backendRefs[2].filters).toBeUndefined();
    const st = routeStatus(asKind(listOf(cluster.source, 'HTTPRoute')[0], 'HTTPRoute')!, cluster.source);
    expect(st.parents?.[0]?.conditions?.find((x) => x.type === 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
  });

  for (const [where, rule] of [
    ['a rule ExtensionRef filter', { filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Thing', name: 'x' } }], backendRefs: [{ name: 'web-v1', port: 80 }] }],
    ['a rule CORS filter', { filters: [{ type: 'CORS' }], backendRefs: [{ name: 'web-v1', port: 80 }] }],
    ['a backendRef ExtensionRef filter', { backendRefs: [{ name: 'web-v1', port: 80, filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Thing', name: 'x' } }] }] }],
  ] as const) {
    it(`${where}: Accepted=False/UnsupportedValue and the route has no effect`, async () => {
      cluster = await clusterDir([...fixtures(), httpRoute('unsupported', rule)]);
      const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
      c.rebuild();
      expect(c.routeTables.get('default/wp')!.value.routes).toEqual([]);
      const st = routeStatus(asKind(listOf(cluster.source, 'HTTPRoute')[0], 'HTTPRoute')!, cluster.source);
      const accepted = st.parents?.[0]?.conditions?.find((x) => x.type === 'Accepted');
      expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
      expect(accepted?.message).toMatch(/ExtensionRef|CORS/);
    });
  }
});
