// Pins lib/model ↔ weft.v1 protobuf conversion: every kind survives model → proto → bytes → proto →
// model unchanged (including nullable timeouts, GRPC matches, filters and optional fields), and a
// resource that breaks the model's schema is refused with ERR_WEFT_CONTROL_INVALID_RESOURCE.
import { describe, expect, it } from 'vitest';
import { Resource } from '../../../api/gen/weft/v1/resources.js';
import { resourceFromProto, resourceToProto } from '../../../lib/control-client/convert.js';
import { hasCode } from '../../../lib/errors/index.js';
import { schemaByKind, type ResourceByKind, type ResourceKind } from '../../../lib/model/index.js';

function roundTrip<K extends ResourceKind>(kind: K, value: ResourceByKind[K]): ResourceByKind[K] {
  const bytes = Resource.encode(resourceToProto(kind, value)).finish();
  return resourceFromProto(kind, Resource.decode(bytes));
}

const samples: { [K in ResourceKind]: unknown } = {
  Workload: {
    uid: 'u1', name: 'a', namespace: 'ns', serviceAccount: 'sa', node: 'n1', ips: ['10.0.0.1'], labels: { app: 'a' }, captured: true,
    waypoint: { namespace: 'ns', name: 'wp', address: '10.96.0.9', identity: 'spiffe://cluster.local/ns/ns/sa/wp' },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], phase: 'Running', ready: false, netns: '/var/run/netns/p',
  },
  Service: {
    namespace: 'ns', name: 's', vips: ['10.96.0.1'], ports: [{ name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' }, { port: 81, targetPort: 81 }],
    endpoints: [{ workloadUid: 'u1', address: '10.0.0.1', ready: true }], labels: {},
  },
  Authorization: {
    namespace: 'ns', name: 'p', action: 'DENY',
    targets: [{ kind: 'namespace' }, { kind: 'selector', matchLabels: { app: 'a' } }, { kind: 'service', name: 's' }, { kind: 'gateway', name: 'g' }],
    rules: [{ from: [{ principals: ['spiffe://cluster.local/ns/a/sa/b'], notNamespaces: ['x'] }], to: [{ ports: [80], methods: ['GET'], paths: ['/a*'] }] }, { from: [], to: [] }],
  },
  RouteTable: {
    namespace: 'ns', name: 'wp',
    routes: [
      {
        kind: 'HTTPRoute', namespace: 'ns', name: 'r', creationTimestamp: '2026-01-01T00:00:00Z', parents: [{ namespace: 'ns', name: 's', port: 80 }], hostnames: ['a.example'],
        rules: [
          {
            name: 'main',
            matches: [{ path: { type: 'Exact', value: '/x' }, headers: [{ type: 'RegularExpression', name: 'h', value: 'v.*' }], queryParams: [{ type: 'Exact', name: 'q', value: '1' }], method: 'GET' }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'a', value: 'b' }], add: [], remove: ['c'] } },
              { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/y' } } },
            ],
            backendRefs: [
              { service: { namespace: 'ns', name: 's2' }, port: 80, weight: 3, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [], add: [{ name: 'x', value: 'y' }], remove: [] } }] },
              { weight: 1, invalidReason: 'BackendNotFound: x' },
            ],
            timeouts: { requestMs: 1500, backendRequestMs: null },
            retry: { codes: [503], grpcCodes: [], attempts: 2, backoffMs: 100 },
          },
        ],
      },
      {
        kind: 'GRPCRoute', namespace: 'ns', name: 'g', creationTimestamp: '2026-01-01T00:00:00Z', parents: [{ namespace: 'ns', name: 's' }], hostnames: [],
        rules: [{ matches: [{ method: { type: 'Exact', service: 'pkg.Svc', method: 'Get' }, headers: [] }], filters: [], backendRefs: [] }],
      },
    ],
  },
  TrustBundle: { trustDomain: 'cluster.local', roots: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'] },
};

describe('convert', () => {
  for (const kind of Object.keys(samples) as ResourceKind[]) {
    it(`round-trips a ${kind}`, () => {
      const value = schemaByKind[kind].parse(samples[kind]);
      expect(roundTrip(kind, value)).toEqual(value);
    });
  }

  it('refuses a resource the model schema rejects', () => {
    const bad = resourceToProto('Workload', schemaByKind.Workload.parse(samples.Workload));
    bad.workload!.phase = 'Exploded';
    const err = (() => {
      try {
        resourceFromProto('Workload', bad);
      } catch (e) {
        return e;
      }
    })();
    expect(hasCode(err, 'ERR_WEFT_CONTROL_INVALID_RESOURCE')).toBe(true);
    expect(() => resourceFromProto('Service', { workload: bad.workload })).toThrow(/another kind/);
  });
});
