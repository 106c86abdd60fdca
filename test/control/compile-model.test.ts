// Pins the compilation of cluster objects into lib/model: capture labels (namespace, pod, `none`),
// waypoint bindings (Service label → the waypoint's Service VIP and SA identity), principal
// normalisation to SPIFFE IDs, named targetPort resolution, selector endpoints, route normalisation
// (durations, "0s", unresolved backends) and incremental updates that report only real changes.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import type { SourceChange } from '../../control/sources/source.js';
import { clusterDir, namespace, pod, service, waypointDeployment, waypointGateway, type ClusterDir } from './compile-fixtures.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const TD = 'cluster.local';

describe('compile', () => {
  it('decides capture from namespace and pod labels, and `none` wins', async () => {
    cluster = await clusterDir([
      namespace('amb', { 'weft.dev/dataplane-mode': 'ambient' }),
      namespace('plain'),
      pod('a', { ns: 'amb', uid: 'ua' }),
      pod('b', { ns: 'amb', uid: 'ub', labels: { 'weft.dev/dataplane-mode': 'none' } }),
      pod('c', { ns: 'plain', uid: 'uc', labels: { 'weft.dev/dataplane-mode': 'ambient' } }),
      pod('d', { ns: 'plain', uid: 'ud', ready: false, annotations: { 'weft.dev/netns': '/var/run/netns/x' } }),
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    const w = (uid: string) => c.workloads.get(uid)!.value;
    expect(w('ua').captured).toBe(true);
    expect(w('ub').captured).toBe(false);
    expect(w('uc').captured).toBe(true);
    expect(w('ud')).toMatchObject({ captured: false, ready: false, netns: '/var/run/netns/x', node: 'n1', ips: ['10.244.1.10'] });
  });

  it('binds a Service labelled use-waypoint to the waypoint Service VIP and SA identity', async () => {
    cluster = await clusterDir([
      namespace('shop'),
      waypointGateway('wp', 'shop'),
      waypointDeployment('wp', 'shop', 'wp-sa'),
      service('wp', { ns: 'shop', ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' }, ports: [{ name: 'mesh', port: 15008 }] }),
      service('cart', { ns: 'shop', labels: { 'weft.dev/use-waypoint': 'wp' } }),
      service('free', { ns: 'shop' }),
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    expect(c.services.get('shop/cart')!.value.waypoint).toEqual({ namespace: 'shop', name: 'wp', address: '10.96.9.9', identity: 'spiffe://cluster.local/ns/shop/sa/wp-sa' });
    expect(c.services.get('shop/free')!.value.waypoint).toBeUndefined();
  });

  it('resolves named targetPorts and protocols, and builds endpoints from ready and unready pods', async () => {
    cluster = await clusterDir([
      pod('api-1', { uid: 'u1', labels: { app: 'api' }, ip: '10.244.1.5', ports: [{ name: 'web', containerPort: 9090 }] }),
      pod('api-2', { uid: 'u2', labels: { app: 'api' }, ip: '10.244.1.6', ready: false, ports: [{ name: 'web', containerPort: 9090 }] }),
      pod('other', { uid: 'u3', labels: { app: 'other' }, ip: '10.244.1.7' }),
      service('api', { ports: [{ name: 'http-main', port: 80, targetPort: 'web' }, { name: 'x', port: 81, appProtocol: 'grpc' }] }),
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    const s = c.services.get('default/api')!.value;
    expect(s.ports).toEqual([
      { name: 'http-main', port: 80, targetPort: 9090, appProtocol: 'http' },
      { name: 'x', port: 81, targetPort: 81, appProtocol: 'grpc' },
    ]);
    expect(s.endpoints).toEqual([
      { workloadUid: 'u1', address: '10.244.1.5', ready: true },
      { workloadUid: 'u2', address: '10.244.1.6', ready: false },
    ]);
    expect(s.vips).toEqual(['10.96.0.10']);
  });

  it('normalises principals to SPIFFE IDs and targets', async () => {
    cluster = await clusterDir([
      {
        apiVersion: 'security.weft.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'p', namespace: 'shop' },
        spec: {
          targetRefs: [{ kind: 'Service', group: '', name: 'cart' }],
          action: 'DENY',
          rules: [{ from: [{ source: { principals: ['ns/a/sa/b', 'cluster.local/ns/c/sa/d', 'spiffe://x/ns/e/sa/f', '*'] } }], to: [{ operation: { ports: ['8080'], methods: ['GET'] } }] }],
        },
      },
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    expect(c.policies.get('shop/p')!.value).toEqual({
      namespace: 'shop',
      name: 'p',
      targets: [{ kind: 'service', name: 'cart' }],
      action: 'DENY',
      rules: [
        {
          from: [{ principals: ['spiffe://cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/c/sa/d', 'spiffe://x/ns/e/sa/f', '*'] }],
          to: [{ ports: [8080], methods: ['GET'] }],
        },
      ],
    });
  });

  it('normalises HTTPRoutes into the route table of the waypoint their parent Service is bound to', async () => {
    cluster = await clusterDir([
      waypointGateway('wp'),
      service('wp', { ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
      service('reviews', { labels: { 'weft.dev/use-waypoint': 'wp' } }),
      service('reviews-v2', { ip: '10.96.0.11' }),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
        spec: {
          parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 80 }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/v2' } }, { headers: [{ name: 'x-canary', value: '1' }] }],
              backendRefs: [{ name: 'reviews-v2', port: 80, weight: 90 }, { name: 'missing', port: 80, weight: 10 }],
              timeouts: { request: '1500ms', backendRequest: '0s' },
              retry: { codes: [503], attempts: 2, backoff: '100ms' },
              filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'b' }] } }],
            },
          ],
        },
      },
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    const t = c.routeTables.get('default/wp')!.value;
    expect(t.routes).toHaveLength(1);
    const route = t.routes[0];
    expect(route.parents).toEqual([{ namespace: 'default', name: 'reviews', port: 80 }]);
    const rule = route.rules[0];
    expect(rule.timeouts).toEqual({ requestMs: 1500, backendRequestMs: null });
    expect(rule.retry).toEqual({ codes: [503], grpcCodes: [], attempts: 2, backoffMs: 100 });
    expect(rule.matches[1]).toEqual({ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: '1' }], queryParams: [] });
    expect(rule.backendRefs[0]).toEqual({ service: { namespace: 'default', name: 'reviews-v2' }, port: 80, weight: 90 });
    expect(rule.backendRefs[1].service).toBeUndefined();
    expect(rule.backendRefs[1].invalidReason).toMatch(/BackendNotFound/);
    expect(rule.filters[0]).toEqual({ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'b' }], add: [], remove: [] } });
  });

  it('updates incrementally and reports only outputs that changed', async () => {
    cluster = await clusterDir([pod('a', { uid: 'ua', labels: { app: 'api' }, ip: '10.244.1.5' }), pod('b', { uid: 'ub', labels: { app: 'x' } }), service('api')]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    const batches: SourceChange[][] = [];
    cluster.source.on('change', (b: readonly SourceChange[]) => batches.push([...b]));
    const changed = cluster.nextChange();
    await cluster.write(pod('a', { uid: 'ua', labels: { app: 'api' }, ip: '10.244.1.99' }));
    await changed;
    const cs = c.update(batches.flat());
    expect([...cs.get('Workload')!]).toEqual(['ua']);
    expect([...cs.get('Service')!]).toEqual(['default/api']);
    expect(c.services.get('default/api')!.value.endpoints[0].address).toBe('10.244.1.99');
    // The same batch again changes nothing.
    const again = c.update(batches.flat());
    expect(again.get('Workload')!.size + again.get('Service')!.size).toBe(0);
  });

  it('drops endpoints of deleted pods and of pods relabelled out of the selector', async () => {
    cluster = await clusterDir([pod('a', { uid: 'ua', labels: { app: 'api' }, ip: '10.244.1.5' }), pod('b', { uid: 'ub', labels: { app: 'api' }, ip: '10.244.1.6' }), service('api')]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'selectors' });
    c.rebuild();
    const batches: SourceChange[] = [];
    cluster.source.on('change', (b: readonly SourceChange[]) => batches.push(...b));
    expect(c.services.get('default/api')!.value.endpoints.map((e) => e.workloadUid)).toEqual(['ua', 'ub']);
    let changed = cluster.nextChange();
    await cluster.remove(pod('a'));
    await changed;
    changed = cluster.nextChange();
    await cluster.write(pod('b', { uid: 'ub', labels: { app: 'other' }, ip: '10.244.1.6' }));
    await changed;
    const cs = c.update(batches);
    expect(cs.get('Service')!.has('default/api')).toBe(true);
    expect(cs.get('Workload')!.has('ua')).toBe(true);
    expect(c.workloads.has('ua')).toBe(false);
    expect(c.services.get('default/api')!.value.endpoints).toEqual([]);
  });

  it('binds workloads to a waypoint only when the Gateway serves workloads, and reads EndpointSlices in cluster mode', async () => {
    cluster = await clusterDir([
      namespace('shop', { 'weft.dev/use-waypoint': 'wp' }),
      waypointGateway('wp', 'shop', { 'weft.dev/waypoint-for': 'all' }),
      service('wp', { ns: 'shop', ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
      pod('a', { ns: 'shop', uid: 'ua', labels: { app: 'api' } }),
      service('api', { ns: 'shop' }),
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'api-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'a', uid: 'ua' } }],
      },
    ]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'endpointslices' });
    c.rebuild();
    expect(c.workloads.get('ua')!.value.waypoint?.address).toBe('10.96.9.9');
    expect(c.services.get('shop/api')!.value.waypoint?.name).toBe('wp');
    expect(c.services.get('shop/api')!.value.endpoints).toEqual([{ workloadUid: 'ua', address: '10.244.1.10', ready: false }]);
  });

  it('follows EndpointSlices incrementally in cluster mode: a new slice, a slice moved to another Service, a deleted one', async () => {
    const slice = (name: string, service: string, address: string): Record<string, unknown> => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    });
    cluster = await clusterDir([namespace('shop'), service('api', { ns: 'shop' }), service('web', { ns: 'shop' }), slice('api-1', 'api', '10.244.1.10')]);
    const c = new Compiler(cluster.source, { trustDomain: TD, endpoints: 'endpointslices' });
    c.rebuild();
    const addresses = (svc: string): string[] => c.services.get(`shop/${svc}`)!.value.endpoints.map((e) => e.address).sort();
    expect(addresses('api')).toEqual(['10.244.1.10']);
    const step = async (change: () => Promise<void>): Promise<Set<string>> => {
      const batches: SourceChange[] = [];
      const listener = (b: readonly SourceChange[]): number => batches.push(...b);
      cluster!.source.on('change', listener);
      const changed = cluster!.nextChange();
      await change();
      await changed;
      cluster!.source.off('change', listener);
      return c.update(batches).get('Service')!;
    };
    expect([...(await step(() => cluster!.write(slice('api-2', 'api', '10.244.1.11'))))]).toEqual(['shop/api']);
    expect(addresses('api')).toEqual(['10.244.1.10', '10.244.1.11']);
    // Relabelled to web: both Services change.
    expect([...(await step(() => cluster!.write(slice('api-2', 'web', '10.244.1.11'))))].sort()).toEqual(['shop/api', 'shop/web']);
    expect(addresses('api')).toEqual(['10.244.1.10']);
    expect(addresses('web')).toEqual(['10.244.1.11']);
    expect([...(await step(() => cluster!.remove(slice('api-1', 'api', '10.244.1.10'))))]).toEqual(['shop/api']);
    expect(addresses('api')).toEqual([]);
  });
});
