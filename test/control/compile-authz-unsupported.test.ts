// Pins: an AuthorizationPolicy with fields weft does not implement (`when`, `requestPrincipals`, `hosts`,
// ...) fails CLOSED instead of being rejected (which left a DENY unenforced — fail open): it validates, a
// DENY rule is enforced as if the unsupported condition matched, an ALLOW rule with one never matches, and
// the status carries a FullySupported=False / UnsupportedValue warning naming the fields. Checked through
// the real compiler and the shared decision engine at L4 (as the node agent runs it).
import { afterEach, describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { asKind } from '../../control/sources/schemas.js';
import { authorizationPolicyStatus } from '../../control/status/authz.js';
import { PolicySet, compilePolicy, type AuthzRequest } from '../../lib/authz/index.js';
import type { AuthorizationPolicy } from '../../lib/model/index.js';
import { clusterDir, namespace, type ClusterDir } from './compile-fixtures.js';

const policy = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'shop', generation: 2 },
  spec,
});
const web = 'spiffe://cluster.local/ns/shop/sa/web';
const other = 'spiffe://cluster.local/ns/other/sa/x';
const req = (principal: string, port: number): AuthzRequest => ({ principal, sourceIp: '10.244.1.5', port });
const authorize = (policies: AuthorizationPolicy[], r: AuthzRequest) =>
  new PolicySet(policies.map((p) => compilePolicy(p, 'cluster.local'))).authorizeL4(r);

describe('AuthorizationPolicy with unsupported fields', () => {
  let cluster: ClusterDir | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  async function compiled(...objects: Record<string, unknown>[]): Promise<Map<string, AuthorizationPolicy>> {
    cluster = await clusterDir([namespace('shop'), ...objects]);
    expect(cluster.source.invalidObjects()).toEqual([]);
    const compiler = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
    compiler.rebuild();
    return new Map([...compiler.policies].map(([k, e]) => [k, e.value]));
  }

  it('enforces a DENY rule as if the unsupported condition matched', async () => {
    const policies = await compiled(
      policy('deny-jwt', { action: 'DENY', rules: [{ from: [{ source: { requestPrincipals: ['issuer/*'] } }], to: [{ operation: { ports: ['80'] } }] }] }),
      policy('deny-when', { action: 'DENY', rules: [{ from: [{ source: { principals: ['ns/other/sa/x'] } }], when: [{ key: 'request.headers[x]', values: ['1'] }] }] }),
    );
    const jwt = policies.get('shop/deny-jwt')!;
    expect(jwt.rules).toEqual([{ from: [{}], to: [{ ports: [80] }] }]);
    // Every caller on port 80 is denied (the JWT condition is taken as matching); other ports untouched.
    expect(authorize([jwt], req(web, 80)).allowed).toBe(false);
    expect(authorize([jwt], req(web, 8080)).allowed).toBe(true);
    const when = policies.get('shop/deny-when')!;
    expect(when.rules).toEqual([{ from: [{ principals: [other] }], to: [] }]);
    expect(authorize([when], req(other, 80)).allowed).toBe(false);
    expect(authorize([when], req(web, 80)).allowed).toBe(true);
  });

  it('never matches an ALLOW rule with an unsupported field', async () => {
    const policies = await compiled(
      policy('allow-mixed', {
        action: 'ALLOW',
        rules: [
          { from: [{ source: { principals: ['ns/shop/sa/web'] } }], to: [{ operation: { ports: ['80'], hosts: ['web.shop'] } }] },
          { from: [{ source: { principals: ['ns/other/sa/x'] } }] },
        ],
      }),
      policy('allow-only-when', { action: 'ALLOW', rules: [{ when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }] }] }),
    );
    const mixed = policies.get('shop/allow-mixed')!;
    expect(mixed.rules).toEqual([{ from: [{ principals: [other] }], to: [] }]);
    expect(authorize([mixed], req(web, 80)).allowed).toBe(false); // its only rule had `hosts`
    expect(authorize([mixed], req(other, 80)).allowed).toBe(true);
    const onlyWhen = policies.get('shop/allow-only-when')!;
    expect(onlyWhen.rules).toEqual([]); // an ALLOW that allows nothing: everything to its targets is denied
    expect(authorize([onlyWhen], req(web, 80)).allowed).toBe(false);
  });

  it('says so in the status as a warning, and only when there is something to say', async () => {
    cluster = await clusterDir([
      namespace('shop'),
      policy('deny-jwt', { action: 'DENY', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }, { to: [{ operation: { ports: ['80'] } }], when: [] }] }),
      policy('plain', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['80'] } }] }] }),
    ]);
    const get = (name: string) => asKind(cluster!.source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name }), 'AuthorizationPolicy')!;
    const status = authorizationPolicyStatus(get('deny-jwt'), cluster.source);
    expect(status.conditions?.[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    const warning = status.conditions?.find((c) => c.type === 'FullySupported');
    expect(warning).toMatchObject({ status: 'False', reason: 'UnsupportedValue', observedGeneration: 2 });
    expect(warning?.message).toContain('rules[0].from[0].source.requestPrincipals');
    expect(warning?.message).toContain('rules[1].when');
    expect(warning?.message).toContain('DENY');
    expect(authorizationPolicyStatus(get('plain'), cluster.source).conditions?.map((c) => c.type)).toEqual(['Accepted']);
  });
});
