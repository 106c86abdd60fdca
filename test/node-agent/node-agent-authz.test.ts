// Pins L4 authorization semantics (Istio's): DENY wins, no ALLOW policy allows, otherwise some ALLOW
// rule must match; L7-only fields make ALLOW rules never match and DENY rules deny (fail closed).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AuthorizationPolicySchema, StateStore, WorkloadSchema, ServiceSchema, type AuthorizationPolicy } from '../../lib/model/index.js';
import { authorize, policiesFor, type AuthzRequest } from '../../node-agent/authz.js';

const A = 'spiffe://cluster.local/ns/shop/sa/a';
const C = 'spiffe://cluster.local/ns/shop/sa/c';
const X = 'spiffe://cluster.local/ns/other/sa/x';
type PolicyInput = Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace'>;
const pol = (p: PolicyInput): AuthorizationPolicy =>
  AuthorizationPolicySchema.parse({ namespace: 'shop', ...p });
const req = (sourceIdentity: string | undefined, port = 8080, sourceIp = '10.244.1.5'): AuthzRequest => ({ sourceIdentity, sourceIp, port });

const denyA = pol({ name: 'deny-a', action: 'DENY', rules: [{ from: [{ principals: [A] }] }] });
const allowShop = pol({ name: 'allow-shop', action: 'ALLOW', rules: [{ from: [{ namespaces: ['shop'] }] }] });

const table: [string, AuthorizationPolicy[], AuthzRequest, boolean, string | undefined][] = [
  ['no policies allow', [], req(A), true, undefined],
  ['DENY on principal denies it', [denyA], req(A), false, 'shop/deny-a'],
  ['DENY on principal leaves others', [denyA], req(C), true, undefined],
  ['DENY beats ALLOW', [allowShop, denyA], req(A), false, 'shop/deny-a'],
  ['ALLOW by namespace', [allowShop], req(C), true, 'shop/allow-shop'],
  ['ALLOW present, nothing matches', [allowShop], req(X), false, 'shop/allow-shop'],
  ['ALLOW with no rules allows nothing', [pol({ name: 'empty', action: 'ALLOW' })], req(A), false, 'shop/empty'],
  ['DENY with no rules denies nothing', [pol({ name: 'empty', action: 'DENY' })], req(A), true, undefined],
  ['plaintext fails principals', [pol({ name: 'p', rules: [{ from: [{ principals: ['*'] }] }] })], req(undefined), false, 'shop/p'],
  ['plaintext allowed by ipBlocks', [pol({ name: 'ip', rules: [{ from: [{ ipBlocks: ['10.244.1.0/24'] }] }] })], req(undefined), true, 'shop/ip'],
  ['ipBlocks miss', [pol({ name: 'ip', rules: [{ from: [{ ipBlocks: ['10.244.2.0/24'] }] }] })], req(undefined), false, 'shop/ip'],
  ['notPrincipals', [pol({ name: 'np', action: 'DENY', rules: [{ from: [{ notPrincipals: [A] }] }] })], req(C), false, 'shop/np'],
  ['principal without scheme and wildcard', [pol({ name: 'w', rules: [{ from: [{ principals: ['cluster.local/ns/shop/*'] }] }] })], req(C), true, 'shop/w'],
  ['ports', [pol({ name: 'port', rules: [{ to: [{ ports: [9090] }] }] })], req(A, 8080), false, 'shop/port'],
  ['notPorts in DENY', [pol({ name: 'np', action: 'DENY', rules: [{ to: [{ notPorts: [8080] }] }] })], req(A, 9000), false, 'shop/np'],
  ['ALLOW with L7 field never matches', [pol({ name: 'l7', rules: [{ to: [{ methods: ['GET'] }] }] })], req(A), false, 'shop/l7'],
  ['DENY with L7 field denies (fail closed)', [pol({ name: 'l7d', action: 'DENY', rules: [{ to: [{ paths: ['/admin'] }] }] })], req(A), false, 'shop/l7d'],
  ['DENY with L7 field still needs its L4 part', [pol({ name: 'l7d', action: 'DENY', rules: [{ from: [{ principals: [X] }], to: [{ paths: ['/admin'] }] }] })], req(A), true, undefined],
];

describe('node-agent authz', () => {
  it.each(table)('%s', (_name, policies, r, allowed, policy) => {
    const d = authorize(policies, r);
    expect(d.allowed).toBe(allowed);
    expect(d.policy).toBe(policy);
  });

  it('selects policies by namespace, selector and service target', () => {
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
          AuthorizationPolicySchema.parse({ namespace: 'other', name: 'elsewhere' }),
        ],
        removes: [],
      },
    ]);
    expect(policiesFor(store, wl).map((p) => p.name).sort()).toEqual(['ns', 'sel-b', 'svc']);
  });
});
