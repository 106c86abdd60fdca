// Pins gRPC retries asked for with route annotations (GRPCRoute has no retry field; an API server prunes
// unknown spec fields): `retry.weft.dev/grpc-codes` (names or numbers), `attempts` and `backoff` compile
// into the route's `retry`; HTTPRoute's spec retry keeps its own values and gains the gRPC codes; bad values
// are left out and reported as PartiallyInvalid on the route's status, never failing the route.
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { parseRetryAnnotations } from '../../control/discovery/retry-annotations.js';
import { asKind, validateObject } from '../../control/sources/schemas.js';
import { routeStatus } from '../../control/status/routes.js';
import { clusterDir, service, waypointGateway, type ClusterDir } from './compile-fixtures.js';

let cluster: ClusterDir | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const route = (kind: 'GRPCRoute' | 'HTTPRoute', annotations: Record<string, string>, rule: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind,
  metadata: { name: kind.toLowerCase(), namespace: 'default', annotations, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'rpc', port: 80 }], rules: [{ backendRefs: [{ name: 'rpc', port: 80 }], ...rule }] },
});

describe('retry annotations', () => {
  it('parses names, numbers, attempts and backoff, and reports bad values', () => {
    expect(parseRetryAnnotations({ 'retry.weft.dev/grpc-codes': 'unavailable, RESOURCE_EXHAUSTED,4,14', 'retry.weft.dev/attempts': '3', 'retry.weft.dev/backoff': '1s250ms' })).toEqual({
      grpcCodes: [4, 8, 14],
      attempts: 3,
      backoffMs: 1250,
      problems: [],
    });
    const bad = parseRetryAnnotations({ 'retry.weft.dev/grpc-codes': 'unavailable,nope,17', 'retry.weft.dev/attempts': '-1', 'retry.weft.dev/backoff': '5 seconds' });
    expect(bad.grpcCodes).toEqual([14]);
    expect(bad.attempts).toBeUndefined();
    expect(bad.backoffMs).toBeUndefined();
    expect(bad.problems).toHaveLength(3);
    expect(bad.problems[0]).toContain('"nope", "17"');
    expect(parseRetryAnnotations(undefined)).toEqual({ grpcCodes: undefined, attempts: undefined, backoffMs: undefined, problems: [] });
  });

  it('compiles a GRPCRoute retry from its annotations and adds gRPC codes to an HTTPRoute retry', async () => {
    cluster = await clusterDir([
      waypointGateway('wp'),
      service('wp', { ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }),
      service('rpc', { labels: { 'weft.dev/use-waypoint': 'wp' } }),
      route('GRPCRoute', { 'retry.weft.dev/grpc-codes': 'unavailable', 'retry.weft.dev/attempts': '12', 'retry.weft.dev/backoff': '25ms' }),
      route('HTTPRoute', { 'retry.weft.dev/grpc-codes': 'deadline-exceeded', 'retry.weft.dev/attempts': '7' }, { retry: { codes: [503], attempts: 2 } }),
    ]);
    const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    c.rebuild();
    const routes = c.routeTables.get('default/wp')!.value.routes;
    const grpc = routes.find((r) => r.kind === 'GRPCRoute')!;
    const http = routes.find((r) => r.kind === 'HTTPRoute')!;
    expect(grpc.rules[0].retry).toEqual({ codes: [], grpcCodes: [14], attempts: 12, backoffMs: 25 });
    // The spec's own attempts win over the annotation's.
    expect(http.rules[0].retry).toEqual({ codes: [503], grpcCodes: [4], attempts: 2 });
  });

  it('a GRPCRoute without the annotations has no retry', async () => {
    cluster = await clusterDir([waypointGateway('wp'), service('wp', { ip: '10.96.9.9', owner: 'wp', selector: { gw: 'wp' } }), service('rpc', { labels: { 'weft.dev/use-waypoint': 'wp' } }), route('GRPCRoute', {})]);
    const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    c.rebuild();
    expect(c.routeTables.get('default/wp')!.value.routes[0].rules[0].retry).toBeUndefined();
  });

  it('bad values show as PartiallyInvalid on the route status', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'rpc', namespace: 'default', labels: { 'weft.dev/use-waypoint': 'wp' } }, spec: { ports: [{ port: 80 }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'default' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
    ].map((o) => {
      const v = validateObject(o);
      if (!v.ok) throw new Error(v.reason);
      return v.object;
    });
    const source = { get: (ref: { kind: string; name: string }) => objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name), list: (kind: string) => objects.filter((o) => o.kind === kind) };
    const v = validateObject(route('GRPCRoute', { 'retry.weft.dev/grpc-codes': 'sometimes' }));
    if (!v.ok) throw new Error(v.reason);
    const st = routeStatus(asKind(v.object, 'GRPCRoute')!, source);
    const conds = st.parents![0].conditions!;
    expect(conds.find((x) => x.type === 'Accepted')?.status).toBe('True');
    expect(conds.find((x) => x.type === 'PartiallyInvalid')).toMatchObject({ status: 'True', reason: 'UnsupportedValue' });
    expect(conds.find((x) => x.type === 'PartiallyInvalid')?.message).toContain('"sometimes"');
  });
});
