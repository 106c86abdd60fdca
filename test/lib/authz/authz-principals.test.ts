// Pins how a policy names a principal (ARCHITECTURE.md: SPIFFE IDs or `ns/<ns>/sa/<sa>`; Istio's
// `<trust domain>/ns/<ns>/sa/<sa>` too), each with `*`, `prefix*` or `*suffix`, and that the node agent
// (L4) and the waypoint (L7) read them alike. The two engines this replaces disagreed: the waypoint
// compared a pattern with the full ID as written, so `cluster.local/ns/shop/*` (left unnormalised by the
// control plane because of its `*`) matched at the node agent and never at the waypoint; and
// `ns/shop/sa/*`, or any `ns/<ns>/sa/<sa>` from a local config file (which skips the control plane's
// normalisation), matched at neither — an ALLOW written as the documented short form allowed nothing.
import { describe, expect, it } from 'vitest';
import { AuthorizationPolicySchema } from '../../../lib/model/index.js';
import { PolicySet, compilePolicy, normalisePrincipal } from '../../../lib/authz/index.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/web';
const OTHER_TD = 'spiffe://other.example/ns/shop/sa/web';

function allows(principal: string, id: string | undefined, trustDomain = 'cluster.local'): { l4: boolean; l7: boolean } {
  const policy = AuthorizationPolicySchema.parse({ namespace: 'shop', name: 'p', rules: [{ from: [{ principals: [principal] }] }] });
  const set = new PolicySet([compilePolicy(policy, trustDomain)]);
  const base = { principal: id, sourceIp: '10.244.1.5', port: 80 };
  return { l4: set.authorizeL4(base).allowed, l7: set.authorizeL7({ ...base, method: 'GET', path: '/' }).allowed };
}

describe('principal forms', () => {
  const both = { l4: true, l7: true };
  const neither = { l4: false, l7: false };
  it.each([
    ['a full SPIFFE ID', ID, ID, both],
    ['a full SPIFFE ID of another workload', 'spiffe://cluster.local/ns/shop/sa/api', ID, neither],
    ['ns/<ns>/sa/<sa> in the local trust domain', 'ns/shop/sa/web', ID, both],
    ['ns/<ns>/sa/<sa> is not another trust domain', 'ns/shop/sa/web', OTHER_TD, neither],
    ['ns/<ns>/sa/* (prefix)', 'ns/shop/sa/*', ID, both],
    ['ns/<ns>/sa/* of another namespace', 'ns/other/sa/*', ID, neither],
    ["Istio's <td>/ns/<ns>/sa/<sa>", 'cluster.local/ns/shop/sa/web', ID, both],
    ["Istio's <td>/ns/<ns>/* (prefix)", 'cluster.local/ns/shop/*', ID, both],
    ['spiffe:// prefix', 'spiffe://cluster.local/ns/shop/*', ID, both],
    ['*/sa/<sa> (suffix)', '*/sa/web', ID, both],
    ['* (any authenticated peer)', '*', ID, both],
    ['* for a plaintext peer', '*', undefined, neither],
    ['a name that is no SPIFFE ID', 'web', ID, neither],
  ])('%s', (_what, principal, id, expected) => {
    expect(allows(principal, id)).toEqual(expected);
  });

  it('completes ns/<ns>/sa/<sa> with the trust domain it is compiled for', () => {
    expect(allows('ns/shop/sa/web', OTHER_TD, 'other.example')).toEqual({ l4: true, l7: true });
    expect(normalisePrincipal('ns/shop/sa/web', 'td')).toBe('spiffe://td/ns/shop/sa/web');
    expect(normalisePrincipal('td/ns/shop/sa/*', 'x')).toBe('spiffe://td/ns/shop/sa/*');
    expect(normalisePrincipal('*', 'x')).toBe('*');
  });
});
