// Shared by the fail-closed tests of unreadable AuthorizationPolicies (files source, kube source, status):
// a cluster with invalid policies of each kind, and the node agent's decision for a pod, computed by the
// real compiler, the real data-plane store and the node agent's policy engine (lib/authz).
import { expect } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import type { ClusterSource } from '../../control/sources/source.js';
import { StateStore } from '../../lib/model/index.js';
import { AuthzPolicies } from '../../lib/authz/index.js';
import { namespace, pod } from './compile-fixtures.js';

export const policy = (name: string, ns: string, spec: unknown): Record<string, unknown> => ({
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: ns, generation: 3 },
  spec,
});

/** A DENY on `app: web` for port 80, written with a port that does not read. */
export const BAD_DENY = policy('deny-web', 'shop', { selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{ to: [{ operation: { ports: ['eighty'] } }] }] });
/** The same DENY, fixed (a number, as the CRD's schema has ports). */
export const GOOD_DENY = policy('deny-web', 'shop', { selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{ to: [{ operation: { ports: [80] } }] }] });
/** An ALLOW on `app: api` from web, its principals not a list. */
export const BAD_ALLOW = policy('allow-api', 'shop', { selector: { matchLabels: { app: 'api' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: 'ns/shop/sa/web' } }] }] });
/** A DENY whose selector does not read (a label value that is a number): applies to all of `ops`. */
export const BAD_SELECTOR = policy('deny-db', 'ops', { selector: { matchLabels: { app: 7 } }, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] });
/** An action weft does not know: enforced as a DENY of what it selects. */
export const UNKNOWN_ACTION = policy('audit-all', 'lab', { selector: { matchLabels: { app: 'x' } }, action: 'AUDIT', rules: [{}] });

export const CLUSTER: Record<string, unknown>[] = [
  namespace('shop'),
  namespace('ops'),
  namespace('lab'),
  pod('web', { ns: 'shop', labels: { app: 'web' }, sa: 'web', ip: '10.244.1.2', uid: 'u-web' }),
  pod('api', { ns: 'shop', labels: { app: 'api' }, sa: 'api', ip: '10.244.1.3', uid: 'u-api' }),
  pod('db', { ns: 'ops', labels: { app: 'db' }, sa: 'db', ip: '10.244.1.4', uid: 'u-db' }),
  pod('cache', { ns: 'ops', labels: { app: 'cache' }, sa: 'cache', ip: '10.244.1.5', uid: 'u-cache' }),
  pod('x', { ns: 'lab', labels: { app: 'x' }, sa: 'x', ip: '10.244.1.6', uid: 'u-x' }),
  pod('y', { ns: 'lab', labels: { app: 'y' }, sa: 'y', ip: '10.244.1.7', uid: 'u-y' }),
];

export const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
export const API = 'spiffe://cluster.local/ns/shop/sa/api';

/**
 * Compiles the source as weft-control does and returns "may `from` reach pod `uid` on `port`?". `uidOf`
 * maps a fixture's uid to the pod's real one (a real API server gives pods uids of its own).
 */
export function decisions(source: ClusterSource, uidOf: (uid: string) => string = (uid) => uid): (uid: string, from: string, port: number) => boolean {
  const compiler = new Compiler(source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
  compiler.rebuild();
  const store = new StateStore();
  store.apply([
    { kind: 'Workload', version: '1', upserts: [...compiler.workloads.values()].map((e) => e.value), removes: [], replace: true },
    { kind: 'Service', version: '1', upserts: [...compiler.services.values()].map((e) => e.value), removes: [], replace: true },
    { kind: 'Authorization', version: '1', upserts: [...compiler.policies.values()].map((e) => e.value), removes: [], replace: true },
  ]);
  const authz = new AuthzPolicies(store, () => 'cluster.local');
  return (uid, from, port) => {
    const w = store.workloadByUid(uidOf(uid));
    if (w === undefined) throw new Error(`no workload ${uid}`);
    return authz.forWorkload(w).authorizeL4({ principal: from, sourceIp: '10.244.9.9', port }).allowed;
  };
}

/** What every test of a source checks: each invalid policy fails closed, and nothing beyond its reach. */
export function expectFailClosed(allowed: (uid: string, from: string, port: number) => boolean): void {
  // Invalid DENY on app=web: everything to web is denied, any port, any caller.
  expect(allowed('u-web', API, 80)).toBe(false);
  expect(allowed('u-web', API, 8080)).toBe(false);
  // Invalid ALLOW on app=api: allows nothing, so api accepts no one (not even web, whom it meant to allow).
  expect(allowed('u-api', WEB, 80)).toBe(false);
  // Invalid DENY whose selector does not read: every workload of ops is denied, for every caller.
  expect(allowed('u-db', API, 5432)).toBe(false);
  expect(allowed('u-cache', 'spiffe://cluster.local/ns/ops/sa/db', 6379)).toBe(false);
  // Unknown action: a DENY of what it selects (x), not of its neighbour (y).
  expect(allowed('u-x', WEB, 80)).toBe(false);
  expect(allowed('u-y', WEB, 80)).toBe(true);
}
