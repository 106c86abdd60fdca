// Pins cross-namespace backendRefs (issue 13 item 3, the rest): a backendRef to a Service in another
// namespace is resolved, and the route's ResolvedRefs is True, exactly when a ReferenceGrant
// (gateway.networking.k8s.io/v1beta1) in the Service's namespace lets routes of that kind from the route's
// namespace refer to that Service (by name, or every Service when `to` names none). Otherwise it stays
// RefNotPermitted and unresolved. ReferenceGrants are read from both sources: the directory (here) and the
// Kubernetes API (a real API server: on-kube/status.ts); a grant appearing or going away recompiles the
// route tables.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { asKind, listOf } from '../../control/sources/schemas.js';
import { routeStatus } from '../../control/status/routes.js';
import { eventually } from '../support/eventually.js';
import { clusterDir, namespace, service, waypointGateway, type ClusterDir } from './compile-fixtures.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function route(kind: 'HTTPRoute' | 'GRPCRoute', ns: string, name: string, backendNs: string): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    metadata: { name, namespace: ns, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'front', port: 80 }], rules: [{ backendRefs: [{ name: 'api', namespace: backendNs, port: 80 }] }] },
  };
}

function grant(ns: string, name: string, from: Record<string, unknown>[], to: Record<string, unknown>[]): Record<string, unknown> {
  return { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name, namespace: ns }, spec: { from, to } };
}

const fromShop = (kind = 'HTTPRoute') => ({ group: 'gateway.networking.k8s.io', kind, namespace: 'shop' });

const fixtures = () => [
  namespace('shop', { 'weft.dev/use-waypoint': 'wp' }),
  namespace('backend'),
  waypointGateway('wp', 'shop'),
  service('wp', { ns: 'shop', ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
  service('front', { ns: 'shop', ip: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('api', { ns: 'backend', ip: '10.96.1.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
];

function backendRef(c: ClusterDir) {
  const compiler = new Compiler(c.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
  compiler.rebuild();
  const routes = [...compiler.routeTables.values()].flatMap((t) => t.value.routes);
  expect(routes).toHaveLength(1);
  return routes[0].rules[0].backendRefs[0];
}

function resolvedRefs(c: ClusterDir, kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute') {
  const r = listOf(c.source, kind)[0];
  return routeStatus(asKind(r, kind)!, c.source).parents?.[0]?.conditions?.find((x) => x.type === 'ResolvedRefs');
}

describe('cross-namespace backendRefs and ReferenceGrant', () => {
  it('a ReferenceGrant naming the Service permits it: resolved in the table, ResolvedRefs True', async () => {
    cluster = await clusterDir([...fixtures(), route('HTTPRoute', 'shop', 'to-api', 'backend'), grant('backend', 'shop-to-api', [fromShop()], [{ group: '', kind: 'Service', name: 'api' }])]);
    expect(backendRef(cluster)).toEqual({ service: { namespace: 'backend', name: 'api' }, port: 80, weight: 1 });
    expect(resolvedRefs(cluster)).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  });

  it('a grant with no name in `to` permits every Service of its namespace', async () => {
    cluster = await clusterDir([...fixtures(), route('HTTPRoute', 'shop', 'to-api', 'backend'), grant('backend', 'all', [fromShop()], [{ group: '', kind: 'Service' }])]);
    expect(backendRef(cluster).service).toEqual({ namespace: 'backend', name: 'api' });
    expect(resolvedRefs(cluster)?.status).toBe('True');
  });

  it.each([
    ['no grant at all', []],
    ['a grant for another Service', [grant('backend', 'other-svc', [fromShop()], [{ group: '', kind: 'Service', name: 'db' }])]],
    ['a grant from another namespace', [grant('backend', 'other-ns', [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'elsewhere' }], [{ group: '', kind: 'Service' }])]],
    ['a grant for GRPCRoutes only', [grant('backend', 'grpc-only', [fromShop('GRPCRoute')], [{ group: '', kind: 'Service' }])]],
    ['a grant in the route\'s namespace instead of the Service\'s', [grant('shop', 'wrong-side', [fromShop()], [{ group: '', kind: 'Service' }])]],
  ])('%s: RefNotPermitted and unresolved', async (_what, grants) => {
    cluster = await clusterDir([...fixtures(), route('HTTPRoute', 'shop', 'to-api', 'backend'), ...grants]);
    const ref = backendRef(cluster);
    expect(ref.service).toBeUndefined();
    expect(ref.invalidReason).toMatch(/^RefNotPermitted: .*no ReferenceGrant in backend allows it/);
    expect(resolvedRefs(cluster)).toMatchObject({ status: 'False', reason: 'RefNotPermitted', message: expect.stringContaining('no ReferenceGrant in backend') as string });
  });

  it('a GRPCRoute needs a grant from GRPCRoute', async () => {
    cluster = await clusterDir([...fixtures(), route('GRPCRoute', 'shop', 'rpc', 'backend'), grant('backend', 'grpc', [fromShop('GRPCRoute')], [{ group: '', kind: 'Service', name: 'api' }])]);
    expect(backendRef(cluster).service).toEqual({ namespace: 'backend', name: 'api' });
    expect(resolvedRefs(cluster, 'GRPCRoute')?.status).toBe('True');
  });

  it('a grant added later (directory watch) resolves the backend; removing it unresolves it again', async () => {
    cluster = await clusterDir([...fixtures(), route('HTTPRoute', 'shop', 'to-api', 'backend')]);
    const compiler = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    compiler.rebuild();
    const first = () => [...compiler.routeTables.values()].flatMap((t) => t.value.routes)[0]?.rules[0].backendRefs[0];
    expect(first()?.service).toBeUndefined();
    cluster.source.on('change', (batch) => compiler.update(batch));
    const g = grant('backend', 'late', [fromShop()], [{ group: '', kind: 'Service', name: 'api' }]);
    await cluster.write(g);
    await eventually(() => first()?.service?.name === 'api', 15_000, 'the grant resolves the backend');
    await cluster.remove(g);
    await eventually(() => first()?.service === undefined, 15_000, 'removing the grant unresolves it');
  });
});
