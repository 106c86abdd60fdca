// Pins: an AuthorizationPolicy the API server hands over that fails weft's validation (the CRD's schema is
// looser than weft's, or the object predates it) was kept out of the state, so an invalid DENY denied
// nothing (fail open). Now the Kubernetes source serves it in its fail-closed form: an invalid DENY denies
// everything it selects, an invalid ALLOW allows nothing, one whose selector does not read applies to its
// whole namespace, an unknown action is a DENY; fixed, it is enforced as written; deleted, it is gone.
// Checked through the real compiler and the node agent's decision.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import { asKind } from '../../control/sources/schemas.js';
import { unreadableOf } from '../../control/sources/authz-fail-closed.js';
import { API, BAD_ALLOW, BAD_DENY, BAD_SELECTOR, CLUSTER, GOOD_DENY, UNKNOWN_ACTION, decisions, expectFailClosed } from './authz-unreadable-fixtures.js';

describe('KubeSource: unreadable AuthorizationPolicies fail closed', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource | undefined;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await api.close();
  });

  it('serves invalid policies as deny-what-it-selects (DENY) and allow-nothing (ALLOW)', async () => {
    for (const o of [...CLUSTER, BAD_DENY, BAD_ALLOW, BAD_SELECTOR, UNKNOWN_ACTION]) api.put(structuredClone(o));
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['Namespace', 'Pod', 'Service', 'AuthorizationPolicy'] });
    await source.start();
    expect(source.invalidObjects().map((i) => i.ref.name).sort()).toEqual(['allow-api', 'audit-all', 'deny-db', 'deny-web']);
    expectFailClosed(decisions(source));

    const deny = asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-web' }), 'AuthorizationPolicy')!;
    expect(deny.spec).toEqual({ selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{}] });
    expect(deny.metadata.resourceVersion).toBeDefined();
    expect(unreadableOf(deny)).toMatchObject({ action: 'DENY', scope: 'selected' });
    const allow = asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'allow-api' }), 'AuthorizationPolicy')!;
    expect(allow.spec).toEqual({ selector: { matchLabels: { app: 'api' } }, action: 'ALLOW', rules: [] });
    expect(unreadableOf(source.get({ kind: 'AuthorizationPolicy', namespace: 'ops', name: 'deny-db' })!)).toMatchObject({ scope: 'namespace' });
  });

  it('follows a policy from valid to invalid (fail closed), fixed (as written) and deleted (gone)', async () => {
    for (const o of [...CLUSTER, GOOD_DENY]) api.put(structuredClone(o));
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['Namespace', 'Pod', 'Service', 'AuthorizationPolicy'] });
    await source.start();
    const s = source;
    expect(decisions(s)('u-web', API, 8080)).toBe(true);
    api.put(structuredClone(BAD_DENY));
    await eventually(() => decisions(s)('u-web', API, 8080) === false, 10_000, 'invalid DENY denies all of web');
    api.put(structuredClone(GOOD_DENY));
    await eventually(() => decisions(s)('u-web', API, 8080), 10_000, 'fixed DENY enforced as written');
    expect(decisions(s)('u-web', API, 80)).toBe(false);
    expect(s.invalidObjects()).toEqual([]);
    api.put(structuredClone(BAD_DENY));
    await eventually(() => decisions(s)('u-web', API, 8080) === false, 10_000, 'invalid again');
    api.remove('authorizationpolicies', 'shop', 'deny-web', 'security.weft.dev');
    await eventually(() => decisions(s)('u-web', API, 80), 10_000, 'deleted: nothing denies');
    expect(s.invalidObjects()).toEqual([]);
  });
});
