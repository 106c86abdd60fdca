// Pins where a policy is enforced. Node agent: policies of the workload's namespace, by namespace,
// selector and Service target; a Service-targeted policy is left to the Service's waypoint when it has
// one (otherwise an L7 DENY such as POST /admin fails closed at L4 and refuses the waypoint's every
// request), and enforced at L4 when it has none (L7 fields fail closed, as ARCHITECTURE.md says); a
// Gateway-targeted policy never. Waypoint: policies targeting its Gateway or the destination Service.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AuthorizationPolicySchema, ServiceSchema, StateStore, WorkloadSchema, type AuthorizationPolicy } from '../../../lib/model/index.js';
import { AuthzPolicies, appliesAtWaypoint } from '../../../lib/authz/index.js';

type PolicyInput = Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace'> & { namespace?: string };
const pol = (p: PolicyInput): AuthorizationPolicy => AuthorizationPolicySchema.parse({ namespace: 'shop', ...p });
const names = (ps: { policies: readonly { id: string }[] }): string[] => ps.policies.map((p) => p.id).sort();

describe('node agent: policies for a workload', () => {
  it('selects by namespace, selector and service target', () => {
    const store = new StateStore();
    const wl = WorkloadSchema.parse({ uid: 'u1', name: 'b', namespace: 'shop', labels: { app: 'b' } });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl], removes: [] },
      { kind: 'Service', version: '1', upserts: [ServiceSchema.parse({ namespace: 'shop', name: 'svc-b', endpoints: [{ workloadUid: 'u1', address: '10.0.0.1' }] })], removes: [] },
      {
        kind: 'Authorization',
        version: '1',
        upserts: [
          pol({ name: 'ns' }),
          pol({ name: 'sel-b', targets: [{ kind: 'selector', matchLabels: { app: 'b' } }] }),
          pol({ name: 'sel-c', targets: [{ kind: 'selector', matchLabels: { app: 'c' } }] }),
          pol({ name: 'svc', targets: [{ kind: 'service', name: 'svc-b' }] }),
          pol({ name: 'svc-other', targets: [{ kind: 'service', name: 'svc-c' }] }),
          pol({ name: 'gw', targets: [{ kind: 'gateway', name: 'wp' }] }),
          pol({ namespace: 'other', name: 'elsewhere' }),
        ],
        removes: [],
      },
    ]);
    expect(names(new AuthzPolicies(store, () => 'cluster.local').forWorkload(wl))).toEqual(['shop/ns', 'shop/sel-b', 'shop/svc']);
  });

  const denyAdmin = pol({ namespace: 'l7', name: 'deny-admin', action: 'DENY', targets: [{ kind: 'service', name: 'web' }], rules: [{ to: [{ methods: ['POST'], paths: ['/admin*'] }] }] });
  const backend = WorkloadSchema.parse({ uid: 'v1', name: 'v1', namespace: 'l7', serviceAccount: 'web', labels: { app: 'web' } });
  const waypoint = { namespace: 'l7', name: 'waypoint', address: '10.96.0.9', identity: 'spiffe://cluster.local/ns/l7/sa/waypoint' };

  function storeWith(withWaypoint: boolean): StateStore {
    const store = new StateStore();
    store.apply([
      { kind: 'Workload', version: '1', upserts: [backend], removes: [] },
      {
        kind: 'Service',
        version: '1',
        upserts: [ServiceSchema.parse({ namespace: 'l7', name: 'web', endpoints: [{ workloadUid: 'v1', address: '10.244.2.2' }], ...(withWaypoint ? { waypoint } : {}) })],
        removes: [],
      },
      { kind: 'Authorization', version: '1', upserts: [denyAdmin], removes: [] },
    ]);
    return store;
  }

  it('leaves a policy on a waypoint-bound Service to the waypoint', () => {
    const set = new AuthzPolicies(storeWith(true), () => 'cluster.local').forWorkload(backend);
    expect(names(set)).toEqual([]);
    expect(set.authorizeL4({ principal: waypoint.identity, sourceIp: '10.244.1.3', port: 8080 }).allowed).toBe(true);
  });

  it('enforces it, failing closed on L7 fields, when the Service has no waypoint', () => {
    const set = new AuthzPolicies(storeWith(false), () => 'cluster.local').forWorkload(backend);
    expect(names(set)).toEqual(['l7/deny-admin']);
    const d = set.authorizeL4({ principal: 'spiffe://cluster.local/ns/l7/sa/client', sourceIp: '10.244.1.2', port: 8080 });
    expect(d.allowed).toBe(false);
    expect(d.policy).toBe('l7/deny-admin');
  });
});

describe('waypoint: policies for a Service', () => {
  const gateway = { namespace: 'shop', name: 'wp' };
  const web = { namespace: 'shop', name: 'web' };
  it.each([
    ['its Gateway', pol({ name: 'p', targets: [{ kind: 'gateway', name: 'wp' }] }), true],
    ['another Gateway', pol({ name: 'p', targets: [{ kind: 'gateway', name: 'other' }] }), false],
    ['the Service', pol({ name: 'p', targets: [{ kind: 'service', name: 'web' }] }), true],
    ['another Service', pol({ name: 'p', targets: [{ kind: 'service', name: 'api' }] }), false],
    ['a same-named Service in another namespace', pol({ namespace: 'other', name: 'p', targets: [{ kind: 'service', name: 'web' }] }), false],
    ['the namespace (enforced by node agents)', pol({ name: 'p' }), false],
    ['a selector (enforced by node agents)', pol({ name: 'p', targets: [{ kind: 'selector', matchLabels: { app: 'web' } }] }), false],
  ])('a policy targeting %s: %s', (_what, p, applies) => {
    expect(appliesAtWaypoint(p, gateway, web)).toBe(applies);
  });
});
