// Pins that policies are compiled when the state changes, not per request: the waypoint built a new
// BlockList for every ipBlocks check of every request, and the node agent re-filtered its namespace's
// policies for every connection. Here thousands of decisions cost no compilation; a state change that
// does not touch a policy recompiles nothing; a changed policy is compiled once; and a waypoint's handle,
// held by an open connection, sees the change on its next request.
import { describe, expect, it } from 'vitest';
import { AuthorizationPolicySchema, ServiceSchema, StateStore, WorkloadSchema, type AuthorizationPolicy } from '../../../lib/model/index.js';
import { AuthzPolicies } from '../../../lib/authz/index.js';

const CLIENT = 'spiffe://cluster.local/ns/shop/sa/client';
const wl = WorkloadSchema.parse({ uid: 'u1', name: 'web-1', namespace: 'shop', labels: { app: 'web' } });
const web = ServiceSchema.parse({ namespace: 'shop', name: 'web', endpoints: [{ workloadUid: 'u1', address: '10.244.1.9' }] });
const gateway = { namespace: 'shop', name: 'wp' };
const allowIps = (name: string, cidr: string): AuthorizationPolicy =>
  AuthorizationPolicySchema.parse({ namespace: 'shop', name, rules: [{ from: [{ ipBlocks: [cidr] }] }] });
const denyPost = AuthorizationPolicySchema.parse({ namespace: 'shop', name: 'deny-post', action: 'DENY', targets: [{ kind: 'gateway', name: 'wp' }], rules: [{ to: [{ methods: ['POST'] }] }] });

function store(policies: AuthorizationPolicy[]): StateStore {
  const s = new StateStore();
  s.apply([
    { kind: 'Workload', version: '1', upserts: [wl], removes: [] },
    { kind: 'Service', version: '1', upserts: [web], removes: [] },
    { kind: 'Authorization', version: '1', upserts: policies, removes: [] },
  ]);
  return s;
}

describe('authz compiles once per state change', () => {
  it('decides many connections and requests without compiling again', () => {
    const s = store([allowIps('a', '10.244.0.0/16'), allowIps('b', '10.8.0.0/16'), denyPost]);
    const authz = new AuthzPolicies(s, () => 'cluster.local');
    const handle = authz.atWaypoint(gateway, web);
    for (let i = 0; i < 2_000; i++) {
      expect(authz.forWorkload(wl).authorizeL4({ principal: CLIENT, sourceIp: `10.244.${i % 250}.1`, port: 80 }).allowed).toBe(true);
      expect(handle.current().authorizeL7({ principal: CLIENT, sourceIp: '10.9.0.1', port: 80, method: i % 2 ? 'GET' : 'POST', path: '/' }).allowed).toBe(i % 2 === 1);
    }
    expect(authz.compilations).toBe(3);
  });

  it('recompiles only the policies a change replaced', () => {
    const a = allowIps('a', '10.244.0.0/16');
    const s = store([a, allowIps('b', '10.8.0.0/16')]);
    const authz = new AuthzPolicies(s, () => 'cluster.local');
    authz.forWorkload(wl);
    expect(authz.compilations).toBe(2);
    s.apply([{ kind: 'Workload', version: '2', upserts: [{ ...wl, labels: { app: 'web', v: '2' } }], removes: [] }]);
    authz.forWorkload(wl);
    expect(authz.compilations).toBe(2);
    s.apply([{ kind: 'Authorization', version: '2', upserts: [allowIps('b', '10.9.0.0/16')], removes: [] }]);
    const set = authz.forWorkload(wl);
    expect(authz.compilations).toBe(3);
    expect(set.authorizeL4({ principal: CLIENT, sourceIp: '10.9.1.1', port: 80 })).toMatchObject({ allowed: true, policy: 'shop/b' });
  });

  it('a handle held by an open connection follows policy changes', () => {
    const s = store([]);
    const authz = new AuthzPolicies(s, () => 'cluster.local');
    const handle = authz.atWaypoint(gateway, web);
    const post = { principal: CLIENT, sourceIp: '10.9.0.1', port: 80, method: 'POST', path: '/' };
    expect(handle.current().authorizeL7(post).allowed).toBe(true);
    s.apply([{ kind: 'Authorization', version: '2', upserts: [denyPost], removes: [] }]);
    expect(handle.current().authorizeL7(post)).toMatchObject({ allowed: false, policy: 'shop/deny-post', rule: 0 });
    s.apply([{ kind: 'Authorization', version: '3', upserts: [], removes: ['shop/deny-post'] }]);
    expect(handle.current().authorizeL7(post).allowed).toBe(true);
    expect(authz.compilations).toBe(1);
  });
});
