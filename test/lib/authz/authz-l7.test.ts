// Pins L7 authorization semantics (Istio's), as the waypoint enforces them: no policy allows, ALLOW
// without rules allows nothing, DENY without rules denies nothing, DENY wins, and methods, paths, ports,
// namespaces (from the peer's SPIFFE ID), principals and ipBlocks are all checked, with `*`, `prefix*`
// and `*suffix`; the decision names the deciding policy and rule.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AuthorizationPolicySchema, type AuthorizationPolicy } from '../../../lib/model/index.js';
import { PolicySet, compilePolicy, type L7AuthzRequest } from '../../../lib/authz/index.js';

type PolicyInput = Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace' | 'name'>;
const p = (action: 'ALLOW' | 'DENY', rules: PolicyInput['rules'], name: string = action): AuthorizationPolicy =>
  AuthorizationPolicySchema.parse({ namespace: 'demo', name, action, rules });
const req: L7AuthzRequest = { principal: 'spiffe://cluster.local/ns/a/sa/b', sourceIp: '10.244.1.5', method: 'GET', path: '/x', port: 80 };
const authorize = (policies: AuthorizationPolicy[], r: Partial<L7AuthzRequest> = {}) =>
  new PolicySet(policies.map((x) => compilePolicy(x, 'cluster.local'))).authorizeL7({ ...req, ...r });

describe('L7 authorization', () => {
  const cases: Array<[string, AuthorizationPolicy[], boolean]> = [
    ['no policy allows', [], true],
    ['ALLOW without rules allows nothing', [p('ALLOW', [])], false],
    ['DENY without rules denies nothing', [p('DENY', [])], true],
    ['ALLOW with an empty rule allows all', [p('ALLOW', [{}])], true],
    ['DENY wins over ALLOW', [p('ALLOW', [{}]), p('DENY', [{ to: [{ paths: ['/x'] }] }])], false],
    ['namespaces from the principal', [p('ALLOW', [{ from: [{ namespaces: ['a'] }] }])], true],
    ['notNamespaces', [p('ALLOW', [{ from: [{ notNamespaces: ['a'] }] }])], false],
    ['suffix and prefix globs', [p('ALLOW', [{ from: [{ principals: ['*/sa/b'] }], to: [{ paths: ['/x*'] }] }])], true],
    ['ipBlocks', [p('ALLOW', [{ from: [{ ipBlocks: ['10.244.1.0/24'] }] }])], true],
    ['methods mismatch', [p('ALLOW', [{ to: [{ methods: ['POST'] }] }])], false],
    ['notMethods', [p('ALLOW', [{ to: [{ notMethods: ['GET'] }] }])], false],
    ['notPaths', [p('DENY', [{ to: [{ notPaths: ['/public*'] }] }])], false],
    ['ports', [p('ALLOW', [{ to: [{ ports: [80] }] }])], true],
    ['notPorts', [p('ALLOW', [{ to: [{ notPorts: [80] }] }])], false],
    ['one operation of several is enough', [p('ALLOW', [{ to: [{ methods: ['POST'] }, { paths: ['/x'] }] }])], true],
    ['from and to must both hold', [p('ALLOW', [{ from: [{ namespaces: ['a'] }], to: [{ methods: ['POST'] }] }])], false],
  ];
  it.each(cases)('%s', (_name, policies, allowed) => expect(authorize(policies).allowed).toBe(allowed));

  it('checks a DENY rule with methods and paths on all of them (unlike L4, where it fails closed)', () => {
    const deny = p('DENY', [{ to: [{ methods: ['POST'], paths: ['/admin*'] }] }], 'deny-admin');
    expect(authorize([deny], { method: 'POST', path: '/admin/users' })).toEqual({ allowed: false, policy: 'demo/deny-admin', rule: 0, reason: 'DENY policy demo/deny-admin matched' });
    expect(authorize([deny], { method: 'GET', path: '/admin' }).allowed).toBe(true);
    expect(authorize([deny], { method: 'POST', path: '/' }).allowed).toBe(true);
  });

  it('names the deciding policy and rule, or every ALLOW policy when none matched', () => {
    const a1 = p('ALLOW', [{ to: [{ methods: ['POST'] }] }, { to: [{ paths: ['/x'] }] }], 'a1');
    const a2 = p('ALLOW', [{ to: [{ methods: ['PUT'] }] }], 'a2');
    expect(authorize([a2, a1])).toEqual({ allowed: true, policy: 'demo/a1', rule: 1, reason: 'ALLOW policy demo/a1 matched' });
    expect(authorize([a2, a1], { path: '/y' })).toEqual({ allowed: false, policy: 'demo/a2,demo/a1', rule: undefined, reason: 'no ALLOW policy matched' });
    expect(authorize([])).toEqual({ allowed: true, policy: undefined, rule: undefined, reason: 'no policy' });
  });

  it('a plaintext request (no principal) fails principals and namespaces, even `*`', () => {
    // Istio's idiom for "deny unauthenticated": DENY with notPrincipals ["*"].
    expect(authorize([p('ALLOW', [{ from: [{ principals: ['*'] }] }])], { principal: undefined }).allowed).toBe(false);
    expect(authorize([p('ALLOW', [{ from: [{ namespaces: ['*'] }] }])], { principal: undefined }).allowed).toBe(false);
    const denyPlaintext = p('DENY', [{ from: [{ notPrincipals: ['*'] }] }]);
    expect(authorize([denyPlaintext], { principal: undefined }).allowed).toBe(false);
    expect(authorize([denyPlaintext]).allowed).toBe(true);
  });
});
