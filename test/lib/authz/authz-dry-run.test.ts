// Pins policy dry-run (`weft.dev/dry-run: "true"`, Istio's `istio.io/dry-run`) in the one authz engine: a
// dry-run policy never changes the enforced decision; where one applies, the would-be set (every policy,
// the dry-run ones as if enforced) gives would-allow / would-deny, at L4 and L7, which the recorder counts
// in weft_authz_dry_run_total and logs; where none applies there is no would-be set and nothing is recorded.
// The annotation survives the control plane's compilation and the wire.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Resource } from '../../../api/gen/weft/v1/resources.js';
import { authorizationPolicyOf } from '../../../control/discovery/compile-policy.js';
import type { AuthorizationPolicyObject } from '../../../control/sources/schemas.js';
import { DryRunRecorder, PolicySet, compilePolicy } from '../../../lib/authz/index.js';
import { resourceFromProto, resourceToProto } from '../../../lib/control-client/convert.js';
import { AuthorizationPolicySchema, type AuthorizationPolicy } from '../../../lib/model/index.js';
import { createRegistry } from '../../../lib/telemetry/metrics.js';
import { jsonLinesLogger } from '../../support/json-lines.js';

const A = 'spiffe://cluster.local/ns/shop/sa/a';
const C = 'spiffe://cluster.local/ns/shop/sa/c';
const pol = (p: Omit<z.input<typeof AuthorizationPolicySchema>, 'namespace'>): AuthorizationPolicy => AuthorizationPolicySchema.parse({ namespace: 'shop', ...p });
const setOf = (...ps: AuthorizationPolicy[]) => new PolicySet(ps.map((p) => compilePolicy(p, 'cluster.local')));
const l4 = (principal: string) => ({ principal, sourceIp: '10.244.1.5', port: 8080 });

const denyADry = pol({ name: 'deny-a', action: 'DENY', dryRun: true, rules: [{ from: [{ principals: [A] }] }] });
const allowCDry = pol({ name: 'allow-c', action: 'ALLOW', dryRun: true, rules: [{ from: [{ principals: [C] }] }] });
const denyPostDry = pol({ name: 'deny-post', action: 'DENY', dryRun: true, rules: [{ to: [{ methods: ['POST'] }] }] });

function recorder() {
  const registry = createRegistry({ defaultMetrics: false });
  const { lines, log } = jsonLinesLogger();
  return { registry, lines, rec: new DryRunRecorder(registry, log, 'destination') };
}

describe('authz dry-run', () => {
  it('a dry-run DENY does not deny; its would-be verdict does', () => {
    const set = setOf(denyADry);
    expect(set.authorizeL4(l4(A))).toMatchObject({ allowed: true, policy: undefined });
    expect(set.size).toBe(0);
    expect(set.dryRun?.authorizeL4(l4(A))).toMatchObject({ allowed: false, policy: 'shop/deny-a', rule: 0 });
    expect(set.dryRun?.authorizeL4(l4(C))).toMatchObject({ allowed: true });
  });

  it('a dry-run ALLOW would deny whom it does not name, and enforced policies still decide', () => {
    const enforcedDeny = pol({ name: 'deny-c', action: 'DENY', rules: [{ from: [{ principals: [C] }] }] });
    const set = setOf(allowCDry, enforcedDeny);
    expect(set.authorizeL4(l4(A))).toMatchObject({ allowed: true });
    expect(set.authorizeL4(l4(C))).toMatchObject({ allowed: false, policy: 'shop/deny-c' });
    expect(set.dryRun?.authorizeL4(l4(A))).toMatchObject({ allowed: false, policy: 'shop/allow-c', reason: 'no ALLOW policy matched' });
    expect(set.dryRun?.authorizeL4(l4(C))).toMatchObject({ allowed: false, policy: 'shop/deny-c' });
  });

  it('without dry-run policies there is no would-be set', () => {
    expect(setOf(pol({ name: 'x', action: 'DENY', rules: [{ from: [{ principals: [A] }] }] })).dryRun).toBeUndefined();
    expect(setOf().dryRun).toBeUndefined();
  });

  it('the recorder counts and logs would_deny / would_allow at L4 and L7, and nothing where no dry-run policy applies', async () => {
    const { registry, lines, rec } = recorder();
    const set = setOf(denyADry);
    expect(rec.l4(set, l4(A), set.authorizeL4(l4(A)), { who: 'a' })).toMatchObject({ allowed: false });
    rec.l4(set, l4(A), set.authorizeL4(l4(A)), { who: 'a' });
    rec.l4(set, l4(C), set.authorizeL4(l4(C)), { who: 'c' });
    const l7set = setOf(denyPostDry);
    const post = { ...l4(C), method: 'POST', path: '/x' };
    rec.l7(l7set, post, l7set.authorizeL7(post), {});
    const plain = setOf();
    expect(rec.l4(plain, l4(A), plain.authorizeL4(l4(A)), {})).toBeUndefined();
    const text = await registry.metrics();
    expect(text).toContain('weft_authz_dry_run_total{reporter="destination",policy="shop/deny-a",rule="0",verdict="would_deny"} 2');
    expect(text).toContain('weft_authz_dry_run_total{reporter="destination",policy="none",rule="none",verdict="would_allow"} 1');
    expect(text).toContain('weft_authz_dry_run_total{reporter="destination",policy="shop/deny-post",rule="0",verdict="would_deny"} 1');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ who: 'a', dry_run: 'would_deny', policy: 'shop/deny-a', rule: 0, enforced: 'allow', msg: 'policy dry-run: would_deny' });
    expect(lines[2]).toMatchObject({ who: 'c', dry_run: 'would_allow', enforced: 'allow' });
  });

  it('the annotation is compiled by the control plane and survives the wire', () => {
    const object = (annotations: Record<string, string> | undefined) =>
      ({
        apiVersion: 'security.weft.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'p', namespace: 'shop', annotations },
        spec: { action: 'DENY', rules: [{ from: [{ source: { principals: [A] } }] }] },
      }) as unknown as AuthorizationPolicyObject;
    const dry = authorizationPolicyOf(object({ 'weft.dev/dry-run': 'true' }), 'cluster.local');
    expect(dry.dryRun).toBe(true);
    expect(authorizationPolicyOf(object({ 'weft.dev/dry-run': 'false' }), 'cluster.local').dryRun).toBeUndefined();
    expect(authorizationPolicyOf(object(undefined), 'cluster.local').dryRun).toBeUndefined();
    const wire = (p: AuthorizationPolicy) => resourceFromProto('Authorization', Resource.decode(Resource.encode(resourceToProto('Authorization', p)).finish()));
    expect(wire(dry).dryRun).toBe(true);
    expect(wire(pol({ name: 'q' })).dryRun).toBeUndefined();
  });
});
