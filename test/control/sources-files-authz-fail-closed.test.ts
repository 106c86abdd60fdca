// Pins: an AuthorizationPolicy in the watched directory that fails validation was skipped, so an invalid
// DENY denied nothing (fail open). Now the directory source serves it in its fail-closed form: an invalid
// DENY denies everything it selects, an invalid ALLOW allows nothing, one whose selector does not read
// applies to its whole namespace, an unknown action is a DENY; it is still reported as invalid, and once
// fixed it is enforced as written. Checked through the real compiler and the node agent's decision.
import { afterEach, describe, expect, it } from 'vitest';
import { asKind } from '../../control/sources/schemas.js';
import { unreadableOf } from '../../control/sources/authz-fail-closed.js';
import { clusterDir, type ClusterDir } from './compile-fixtures.js';
import { API, BAD_ALLOW, BAD_DENY, BAD_SELECTOR, CLUSTER, GOOD_DENY, UNKNOWN_ACTION, decisions, expectFailClosed } from './authz-unreadable-fixtures.js';
import { eventually } from '../support/eventually.js';

describe('DirectorySource: unreadable AuthorizationPolicies fail closed', () => {
  let cluster: ClusterDir | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('serves invalid policies as deny-what-it-selects (DENY) and allow-nothing (ALLOW)', async () => {
    cluster = await clusterDir([...CLUSTER, BAD_DENY, BAD_ALLOW, BAD_SELECTOR, UNKNOWN_ACTION]);
    const source = cluster.source;
    expect(source.invalidObjects().map((i) => i.ref.name).sort()).toEqual(['allow-api', 'audit-all', 'deny-db', 'deny-web']);
    expectFailClosed(decisions(source));

    const deny = asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-web' }), 'AuthorizationPolicy')!;
    expect(deny.spec).toEqual({ selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{}] });
    expect(deny.metadata.generation).toBe(3);
    expect(unreadableOf(deny)).toMatchObject({ action: 'DENY', scope: 'selected', actionUnread: false });
    expect(unreadableOf(deny)?.reason).toContain('spec.rules.0.to.0.operation.ports.0');
    const allow = asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'allow-api' }), 'AuthorizationPolicy')!;
    expect(allow.spec).toEqual({ selector: { matchLabels: { app: 'api' } }, action: 'ALLOW', rules: [] });
    const wide = asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'ops', name: 'deny-db' }), 'AuthorizationPolicy')!;
    expect(wide.spec).toEqual({ action: 'DENY', rules: [{}] });
    expect(unreadableOf(wide)).toMatchObject({ scope: 'namespace' });
    expect(unreadableOf(asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'lab', name: 'audit-all' }), 'AuthorizationPolicy')!)).toMatchObject({ action: 'DENY', actionUnread: true });
  });

  it('turns a policy that becomes invalid into its fail-closed form, and back once fixed', async () => {
    cluster = await clusterDir([...CLUSTER, GOOD_DENY]);
    const source = cluster.source;
    expect(decisions(source)('u-web', API, 8080)).toBe(true); // the valid DENY is for port 80 only
    await cluster.write(BAD_DENY);
    await eventually(() => decisions(source)('u-web', API, 8080) === false, 10_000, 'invalid DENY denies all of web');
    expect(source.invalidObjects().map((i) => i.ref.name)).toEqual(['deny-web']);
    await cluster.write(GOOD_DENY);
    await eventually(() => decisions(source)('u-web', API, 8080), 10_000, 'fixed DENY enforced as written');
    expect(decisions(source)('u-web', API, 80)).toBe(false);
    expect(source.invalidObjects()).toEqual([]);
    expect(unreadableOf(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-web' })!)).toBeUndefined();
  });
});
