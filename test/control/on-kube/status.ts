// Pins what the status controller writes on a real API server: route and policy status through the
// /status subresource, only as leader, only when the status changed (a steady cluster sees no writes),
// following changes (a Service appearing flips NoMatchingParent to Accepted), marking a route weft cannot
// read (stored under a looser schema) and an unreadable AuthorizationPolicy (Invalid, enforced fail
// closed); and that ReferenceGrants (gateway.networking.k8s.io/v1beta1) are listed and watched. The same
// in a directory: status-writer.test.ts, status-authz-unreadable.test.ts, compile-reference-grants.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KubeSource } from '../../../control/sources/kube.js';
import { StatusController } from '../../../control/status/controller.js';
import { AlwaysLeader } from '../../../control/leader.js';
import { asKind } from '../../../control/sources/schemas.js';
import { eventually } from '../../support/eventually.js';
import { sourceCaughtUp } from '../../support/kube-caught-up.js';
import { ManualLeader } from '../../support/manual-leader.js';
import { CRD_DIRS, type KubeServer } from '../../support/kube-server.js';
import { BAD_ALLOW, CLUSTER } from '../authz-unreadable-fixtures.js';
import { GW, NS, POLICY, ROUTE, SVC } from '../status-fixtures.js';

const crd = (file: string): Record<string, unknown> => parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const HTTPROUTE_CRD = join(CRD_DIRS[0], 'gateway.networking.k8s.io_httproutes.yaml');
const POLICY_CRD = join(CRD_DIRS[1], 'authorizationpolicies.security.weft.dev.yaml');

const BAD_ROUTE = { ...ROUTE, metadata: { name: 'bad', namespace: 'shop' }, spec: { ...ROUTE.spec, rules: [{ matches: [{ path: { type: 'Glob', value: '/*' } }] }] } };

export function describeStatus(kube: () => KubeServer): void {
  describe('status controller on a real API server', () => {
    let source: KubeSource | undefined;
    let controller: StatusController | undefined;
    afterEach(async () => {
      await controller?.stop();
      await source?.stop();
      controller = source = undefined;
    });
    /** The code under test's writes (the fixture's own are not in requests()). */
    const writes = () => kube().requests().filter((r) => !['get', 'list', 'watch'].includes(r.verb));

    it('writes status as leader, follows changes, and is quiet when nothing changes', async () => {
      const k = kube();
      for (const o of [NS, GW, ROUTE, POLICY]) await k.put(o);
      await k.putPredatingSchema(crd(HTTPROUTE_CRD), [BAD_ROUTE]);
      const s = (source = new KubeSource({ kubeConfig: k.kc }));
      await s.start();
      const leader = new ManualLeader();
      const c = (controller = new StatusController({ source: s, leader, debounceMs: 10 }));
      c.start();
      // A pass as a follower (what a change or a resync runs) writes nothing.
      await c.reconcile();
      await c.idle();
      expect(writes()).toEqual([]);
      leader.lead();

      const reason = () => asKind(s.get({ kind: 'HTTPRoute', namespace: 'shop', name: 'r' }), 'HTTPRoute')?.status?.parents?.[0]?.conditions?.find((x) => x.type === 'Accepted')?.reason;
      await eventually(() => reason() === 'NoMatchingParent', 15_000, 'route not accepted without its Service');
      const bad = await eventually(async () => (await k.get('HTTPRoute', 'shop', 'bad'))?.status as { parents?: { conditions?: { reason?: string }[] }[] } | undefined, 15_000, 'invalid route status');
      expect(bad.parents?.[0]?.conditions?.[0]?.reason).toBe('UnsupportedValue');
      expect(writes().some((r) => r.verb === 'patch' && r.path === '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/r/status')).toBe(true);
      expect(writes().every((r) => r.path.endsWith('/status'))).toBe(true);

      await k.put(SVC);
      await eventually(() => reason() === 'Accepted', 15_000, 'route accepted once the Service exists');
      await eventually(() => asKind(s.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'p' }), 'AuthorizationPolicy')?.status?.conditions?.[0]?.reason === 'Accepted', 15_000, 'policy accepted');

      // Steady state: the source has seen every status written (their change events scheduled their passes),
      // those passes are over, and one more full pass writes nothing.
      await eventually(() => sourceCaughtUp(k, s, ['HTTPRoute', 'AuthorizationPolicy']), 15_000, 'source saw every status write');
      await new Promise((r) => setImmediate(r)); // the source hands a change over one tick after it stores it
      await c.idle();
      const before = writes().length;
      await c.reconcile();
      await c.idle();
      expect(writes().length).toBe(before);
    });

    it('marks an unreadable AuthorizationPolicy Invalid, enforced fail closed, through /status', async () => {
      const k = kube();
      for (const o of CLUSTER) await k.put(structuredClone(o));
      await k.putPredatingSchema(crd(POLICY_CRD), [structuredClone(BAD_ALLOW)]);
      const s = (source = new KubeSource({ kubeConfig: k.kc, kinds: ['Namespace', 'Pod', 'Service', 'Gateway', 'AuthorizationPolicy'] }));
      await s.start();
      controller = new StatusController({ source: s, leader: new AlwaysLeader(), debounceMs: 10 });
      controller.start();
      const status = await eventually(
        async () => (await k.get('AuthorizationPolicy', 'shop', 'allow-api'))?.status as { conditions?: { reason?: string; message?: string }[] } | undefined,
        15_000,
        'policy status written',
      );
      expect(status.conditions?.[0]).toMatchObject({ reason: 'Invalid' });
      expect(status.conditions?.[0]?.message).toMatch(/^invalid policy \(spec\.rules\.0\.from\.0\.source\.principals: .*\); enforced fail closed: it allows nothing/);
    });
  });

  describe('ReferenceGrant from a real API server', () => {
    let source: KubeSource | undefined;
    afterEach(async () => {
      await source?.stop();
      source = undefined;
    });
    const grant = (name: string, to: Record<string, unknown>[]) => ({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name, namespace: 'backend' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }], to },
    });

    it('is listed and watched as ReferenceGrant (gateway.networking.k8s.io/v1beta1)', async () => {
      const k = kube();
      await k.put(grant('g1', [{ group: '', kind: 'Service', name: 'api' }]));
      const s = (source = new KubeSource({ kubeConfig: k.kc, kinds: ['ReferenceGrant'] }));
      await s.start();
      expect(s.list('ReferenceGrant').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['backend/g1']);
      await k.put(grant('g2', [{ group: '', kind: 'Service' }]));
      await eventually(() => s.get({ kind: 'ReferenceGrant', namespace: 'backend', name: 'g2' }), 15_000, 'watched grant');
      expect(k.requests().some((r) => r.verb === 'watch' && r.path === '/apis/gateway.networking.k8s.io/v1beta1/referencegrants')).toBe(true);
    });
  });
}
