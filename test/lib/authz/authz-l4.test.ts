// Pins L4 authorization semantics (Istio's), as the node agent enforces them: DENY wins, no ALLOW policy
// allows, otherwise some ALLOW rule must match; L7-only fields make ALLOW rules never match and DENY rules
// deny (fail closed); the decision names the deciding policy and rule; a CIDR no proxy can read fails
// closed instead of throwing (it threw inside the node agent's authorize hook and change listener).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AuthorizationPolicySchema, type AuthorizationPolicy } from '../../../lib/model/index.js';
import { PolicySet, compilePolicy, type AuthzRequest } from '../../../lib/authz/index.js';

const A = 'spiffe://cluster.local/ns/shop/sa/a';
const C = 'spiffe://cluster.local/ns/shop/sa/c';
const X = 'spiffe://cluster.local/ns/other/sa/x';
type PolicyInput = Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace'>;
const pol = (p: PolicyInput): AuthorizationPolicy =>
  AuthorizationPolicySchema.parse({ namespace: 'shop', ...p });
const req = (principal: string | undefined, port = 8080, sourceIp = '10.244.1.5'): AuthzRequest => ({ principal, sourceIp, port });
const authorize = (policies: AuthorizationPolicy[], r: AuthzRequest) =>
  new PolicySet(policies.map((p) => compilePolicy(p, 'cluster.local'))).authorizeL4(r);

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

describe('L4 authorization', () => {
  it.each(table)('%s', (_name, policies, r, allowed, policy) => {
    const d = authorize(policies, r);
    expect(d.allowed).toBe(allowed);
    expect(d.policy).toBe(policy);
  });

  it('names the deciding rule by its index', () => {
    const p = pol({ name: 'two', action: 'DENY', rules: [{ from: [{ principals: [X] }] }, { from: [{ principals: [A] }] }] });
    expect(authorize([p], req(A))).toEqual({ allowed: false, policy: 'shop/two', rule: 1, reason: 'DENY policy shop/two matched' });
    const allow = pol({ name: 'allow', rules: [{ from: [{ principals: [X] }] }, { to: [{ ports: [8080] }] }] });
    expect(authorize([allow], req(A))).toMatchObject({ allowed: true, policy: 'shop/allow', rule: 1 });
    expect(authorize([allow], req(A, 9090))).toMatchObject({ allowed: false, policy: 'shop/allow', rule: undefined });
  });

  it('fails closed on a CIDR it cannot read instead of throwing', () => {
    const bad = ['10.244.1.0/99', 'not-an-ip'];
    const deny = pol({ name: 'deny-bad', action: 'DENY', rules: [{ from: [{ ipBlocks: bad }] }] });
    const allow = pol({ name: 'allow-bad', rules: [{ from: [{ ipBlocks: ['10.9.0.0/16', ...bad] }] }] });
    const allowNot = pol({ name: 'allow-not-bad', rules: [{ from: [{ notIpBlocks: bad }] }] });
    const denyNot = pol({ name: 'deny-not-bad', action: 'DENY', rules: [{ from: [{ notIpBlocks: ['10.9.0.0/16', ...bad] }] }] });
    // A DENY rule's unreadable ipBlocks match everyone; an ALLOW rule's match no one.
    expect(authorize([deny], req(A)).allowed).toBe(false);
    expect(authorize([allow], req(A)).allowed).toBe(false);
    expect(authorize([allow], req(A, 8080, '10.9.1.1')).allowed).toBe(true);
    // notIpBlocks the other way round: an ALLOW rule excludes everyone, a DENY rule only what it can read.
    expect(authorize([allowNot], req(A)).allowed).toBe(false);
    expect(authorize([denyNot], req(A)).allowed).toBe(false);
    expect(authorize([denyNot], req(A, 8080, '10.9.1.1')).allowed).toBe(true);
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 blocks', () => {
    const ip = pol({ name: 'ip', rules: [{ from: [{ ipBlocks: ['10.244.1.0/24'] }] }] });
    expect(authorize([ip], req(undefined, 8080, '::ffff:10.244.1.5')).allowed).toBe(true);
  });
});
