// Pins: the status controller writes route and policy status through the source (Kubernetes: the /status
// subresource; directory: status/ files), only as leader, only when the status changed (a steady cluster
// sees no writes), follows changes (a Service appearing flips NoMatchingParent to Accepted), and marks an
// object that failed validation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import { sourceCaughtUp } from '../support/kube-caught-up.js';
import type { DirectorySource } from '../../control/sources/files.js';
import { StatusController } from '../../control/status/controller.js';
import { AlwaysLeader } from '../../control/leader.js';
import { ManualLeader } from '../support/manual-leader.js';
import { asKind } from '../../control/sources/schemas.js';
import { manifestDirectory, type ManifestDirectory } from '../support/manifest-directory.js';

const NS = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/use-waypoint': 'wp' } } };
const GW = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'shop' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } };
const SVC = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };
const ROUTE = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
};
const BAD_ROUTE = { ...ROUTE, metadata: { name: 'bad', namespace: 'shop' }, spec: { ...ROUTE.spec, rules: [{ matches: [{ path: { type: 'Glob', value: '/*' } }] }] } };
const POLICY = {
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'shop' },
  spec: { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
};

describe('status controller', () => {
  describe('on Kubernetes', () => {
    let api: KubeApiServerDouble;
    let source: KubeSource;
    let controller: StatusController;
    beforeEach(async () => {
      api = await KubeApiServerDouble.start();
      for (const o of [NS, GW, ROUTE, BAD_ROUTE, POLICY]) api.put(o);
      source = new KubeSource({ kubeConfig: kubeconfigFor(api) });
      await source.start();
    });
    afterEach(async () => {
      await controller.stop();
      await source.stop();
      await api.close();
    });

    it('writes status as leader, follows changes, and is quiet when nothing changes', async () => {
      const leader = new ManualLeader();
      controller = new StatusController({ source, leader, debounceMs: 10 });
      controller.start();
      // A pass as a follower (what a change or a resync runs) writes nothing.
      await controller.reconcile();
      await controller.idle();
      expect(api.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
      leader.lead();

      const reason = () => asKind(source.get({ kind: 'HTTPRoute', namespace: 'shop', name: 'r' }), 'HTTPRoute')?.status?.parents?.[0]?.conditions?.find((c) => c.type === 'Accepted')?.reason;
      await eventually(() => reason() === 'NoMatchingParent', 15_000, 'route not accepted without its Service');
      const bad = await eventually(() => api.getObject('httproutes', 'shop', 'bad', 'gateway.networking.k8s.io')?.status as { parents?: { conditions?: { reason?: string }[] }[] } | undefined, 15_000, 'invalid route status');
      expect(bad.parents?.[0]?.conditions?.[0]?.reason).toBe('UnsupportedValue');
      expect(api.requests.some((r) => r.method === 'PATCH' && r.path === '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/r/status')).toBe(true);

      api.put(SVC);
      await eventually(() => reason() === 'Accepted', 15_000, 'route accepted once the Service exists');
      await eventually(() => asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'p' }), 'AuthorizationPolicy')?.status?.conditions?.[0]?.reason === 'Accepted', 15_000, 'policy accepted');

      // Steady state: the source has seen every status written (their change events scheduled their passes),
      // those passes are over, and one more full pass writes nothing.
      await eventually(() => sourceCaughtUp(api, source, ['HTTPRoute', 'AuthorizationPolicy']), 15_000, 'source saw every status write');
      await new Promise((r) => setImmediate(r)); // the source hands a change over one tick after it stores it
      await controller.idle();
      const writes = api.requests.filter((r) => r.method === 'PATCH').length;
      await controller.reconcile();
      await controller.idle();
      expect(api.requests.filter((r) => r.method === 'PATCH').length).toBe(writes);
    });
  });

  describe('in a directory', () => {
    let dir: string;
    let source: DirectorySource;
    let cluster: ManifestDirectory;
    let controller: StatusController;
    beforeEach(async () => {
      cluster = await manifestDirectory('weft-t-status-', { 'all.yaml': [NS, GW, SVC, ROUTE, POLICY] });
      ({ dir, source } = cluster);
    });
    afterEach(async () => {
      await controller.stop();
      await cluster.remove();
    });

    it('writes status files that merge back into the objects', async () => {
      const leader = new AlwaysLeader();
      controller = new StatusController({ source, leader, debounceMs: 10 });
      controller.start();
      leader.start();
      const file = path.join(dir, 'status', 'HTTPRoute.shop.r.yaml');
      const doc = await eventually(async () => (parse(await readFile(file, 'utf8').catch(() => '')) as { status?: { parents?: { conditions?: { type: string; reason: string }[] }[] } } | null) ?? undefined, 15_000, 'status file');
      expect(doc?.status?.parents?.[0]?.conditions?.map((c) => `${c.type}=${c.reason}`)).toEqual(['Accepted=Accepted', 'ResolvedRefs=ResolvedRefs']);
      await eventually(() => asKind(source.get({ kind: 'HTTPRoute', namespace: 'shop', name: 'r' }), 'HTTPRoute')?.status?.parents?.length === 1, 15_000, 'merged');
      await eventually(async () => (await readFile(path.join(dir, 'status', 'AuthorizationPolicy.shop.p.yaml'), 'utf8').catch(() => '')).includes('reason: Accepted'), 15_000, 'policy status file');
    });
  });
});
