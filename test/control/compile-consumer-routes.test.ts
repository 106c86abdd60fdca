// Pins consumer routes (GAMMA) in the control plane. An HTTPRoute in namespace `other` whose parentRef is
// the Service demo/echo is a consumer route: it is compiled into demo's waypoint route table as a route
// of namespace `other` (the waypoint applies it only to clients of `other`), and its status says
// Accepted. The failure this pinned: such a route took effect for every client of the Service while its
// status said Accepted=False/RefNotPermitted, so any namespace could hijack another's Service. A backendRef
// into another namespace needs a ReferenceGrant, which weft does not read: it is RefNotPermitted in status
// and unresolved (500 for its share) in the table, never forwarded. And for every route and parent: in a
// route table exactly when its status says Accepted.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { asKind, listOf } from '../../control/sources/schemas.js';
import { routeStatus } from '../../control/status/routes.js';
import { clusterDir, namespace, service, waypointGateway, type ClusterDir } from './compile-fixtures.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function httpRoute(ns: string, name: string, parentRefs: Record<string, unknown>[], backendRefs: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { parentRefs, rules: [{ backendRefs, ...extra }] },
  };
}

const echoRef = (extra: Record<string, unknown> = {}) => ({ group: '', kind: 'Service', name: 'echo', namespace: 'demo', ...extra });

const fixtures = () => [
  namespace('demo', { 'weft.dev/use-waypoint': 'wp' }),
  namespace('other'),
  waypointGateway('wp', 'demo'),
  service('wp', { ns: 'demo', ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
  service('echo', { ns: 'demo', ip: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('echo-canary', { ns: 'other', ip: '10.96.1.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
];

function compile(c: ClusterDir) {
  const compiler = new Compiler(c.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
  compiler.rebuild();
  return [...compiler.routeTables.values()].flatMap((t) => t.value.routes);
}

function statusOf(c: ClusterDir, ns: string, name: string) {
  const r = listOf(c.source, 'HTTPRoute').find((x) => x.metadata.namespace === ns && x.metadata.name === name)!;
  return routeStatus(asKind(r, 'HTTPRoute')!, c.source);
}

describe('consumer routes', () => {
  it('a route in another namespace is compiled as a consumer route of its own namespace and is Accepted', async () => {
    cluster = await clusterDir([...fixtures(), httpRoute('other', 'mine', [echoRef({ port: 80 })], [{ name: 'echo-canary', port: 80 }])]);
    const routes = compile(cluster);
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ namespace: 'other', name: 'mine', parents: [{ namespace: 'demo', name: 'echo', port: 80 }] });
    expect(routes[0].rules[0].backendRefs[0]).toEqual({ service: { namespace: 'other', name: 'echo-canary' }, port: 80, weight: 1 });
    const st = statusOf(cluster, 'other', 'mine');
    const accepted = st.parents?.[0]?.conditions?.find((x) => x.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(accepted?.message).toContain('clients in namespace other');
  });

  it('a backendRef into another namespace is RefNotPermitted in status and never resolved in the table', async () => {
    cluster = await clusterDir([...fixtures(), httpRoute('other', 'cross', [echoRef()], [{ name: 'echo', namespace: 'demo', port: 80 }])]);
    const ref = compile(cluster)[0].rules[0].backendRefs[0];
    expect(ref.service).toBeUndefined();
    expect(ref.invalidReason).toMatch(/^RefNotPermitted/);
    const rr = statusOf(cluster, 'other', 'cross').parents?.[0]?.conditions?.find((x) => x.type === 'ResolvedRefs');
    expect(rr).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
  });

  it('a route is in a route table for exactly the parents its status says Accepted', async () => {
    cluster = await clusterDir([
      ...fixtures(),
      service('plain', { ns: 'other', ip: '10.96.1.11' }), // no waypoint
      // A waypoint for workloads only takes no Service traffic: routes of its Services cannot apply.
      namespace('wl'),
      waypointGateway('wlwp', 'wl', { 'weft.dev/waypoint-for': 'workload' }),
      service('wlwp', { ns: 'wl', ip: '10.96.2.9', owner: 'wlwp', selector: { gw: 'wlwp' } }),
      service('svc', { ns: 'wl', ip: '10.96.2.10', labels: { 'weft.dev/use-waypoint': 'wlwp' } }),
      httpRoute('wl', 'workload-waypoint', [{ group: '', kind: 'Service', name: 'svc' }], [{ name: 'svc', port: 80 }]),
      httpRoute('demo', 'producer', [{ group: '', kind: 'Service', name: 'echo' }], [{ name: 'echo', port: 80 }]),
      httpRoute('demo', 'wrong-port', [{ group: '', kind: 'Service', name: 'echo', port: 81 }], [{ name: 'echo', port: 80 }]),
      httpRoute('other', 'consumer', [echoRef(), echoRef({ port: 81 }), { group: '', kind: 'Service', name: 'plain' }, echoRef({ name: 'missing' })], [{ name: 'echo-canary', port: 80 }]),
      httpRoute('other', 'unsupported', [echoRef()], [{ name: 'echo-canary', port: 80 }], { filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'F', name: 'f' } }] }),
    ]);
    const routes = compile(cluster);
    const inTable = new Set(routes.flatMap((r) => r.parents.map((p) => `${r.namespace}/${r.name} → ${p.namespace}/${p.name}:${p.port ?? '*'}`)));
    const accepted = new Set<string>();
    for (const r of listOf(cluster.source, 'HTTPRoute')) {
      const st = routeStatus(asKind(r, 'HTTPRoute')!, cluster.source);
      for (const p of st.parents ?? []) {
        if (p.conditions?.find((x) => x.type === 'Accepted')?.status !== 'True') continue;
        accepted.add(`${r.metadata.namespace}/${r.metadata.name} → ${p.parentRef.namespace ?? r.metadata.namespace}/${p.parentRef.name}:${p.parentRef.port ?? '*'}`);
      }
    }
    expect([...inTable].sort()).toEqual([...accepted].sort());
    expect([...inTable].sort()).toEqual(['demo/producer → demo/echo:*', 'other/consumer → demo/echo:*']);
  });
});
