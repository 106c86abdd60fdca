// Pins where a Service-targeted policy is enforced: when the Service is bound to a waypoint, the
// waypoint enforces it (it sees the client's identity and L7 attributes) and the node agent must not —
// otherwise an L7 DENY (e.g. POST /admin) fails closed at L4 and refuses the waypoint's every request.
// Without a waypoint, the agent enforces it (L7 fields fail closed, as ARCHITECTURE.md says).
import { describe, expect, it } from 'vitest';
import { AuthorizationPolicySchema, ServiceSchema, StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { authorize, policiesFor } from '../../node-agent/authz.js';

const denyAdmin = AuthorizationPolicySchema.parse({
  namespace: 'l7',
  name: 'deny-admin',
  action: 'DENY',
  targets: [{ kind: 'service', name: 'web' }],
  rules: [{ to: [{ methods: ['POST'], paths: ['/admin*'] }] }],
});
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

describe('node-agent authz for Service-targeted policies', () => {
  it('leaves a policy on a waypoint-bound Service to the waypoint', () => {
    const store = storeWith(true);
    expect(policiesFor(store, backend)).toEqual([]);
    expect(authorize(policiesFor(store, backend), { sourceIdentity: waypoint.identity, sourceIp: '10.244.1.3', port: 8080 }).allowed).toBe(true);
  });

  it('enforces it, failing closed on L7 fields, when the Service has no waypoint', () => {
    const store = storeWith(false);
    expect(policiesFor(store, backend).map((p) => p.name)).toEqual(['deny-admin']);
    const d = authorize(policiesFor(store, backend), { sourceIdentity: 'spiffe://cluster.local/ns/l7/sa/client', sourceIp: '10.244.1.2', port: 8080 });
    expect(d.allowed).toBe(false);
    expect(d.policy).toBe('l7/deny-admin');
  });
});
