// Pins: for a Gateway of class weft-waypoint the controller applies a ServiceAccount, a Deployment running
// the chart's default image (no parametersRef: defaults, with resources and a non-root securityContext)
// with the args of waypoint/main.ts, two replicas spread over nodes (preferred), a Service
// exposing 15008 and a PodDisruptionBudget (maxUnavailable 1) — all owned by the Gateway, with field manager
// weft-waypoint-controller — writes Gateway/GatewayClass status, where Programmed waits for a Ready replica
// that discovery has delivered to the node agents of the namespace's nodes (issue 13 items 4, 5), cleans up
// when the Gateway is deleted, does nothing while not the leader, and behaves the same on Kubernetes and in
// a directory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import { sourceCaughtUp } from '../support/kube-caught-up.js';
import type { DirectorySource } from '../../control/sources/files.js';
import { WaypointController } from '../../control/waypoints/controller.js';
import { AlwaysLeader } from '../../control/leader.js';
import { ManualLeader } from '../support/manual-leader.js';
import { asKind } from '../../control/sources/schemas.js';
import { DEFAULT_WAYPOINT_IMAGE } from '../../control/waypoints/objects.js';
import { Compiler } from '../../control/discovery/compile.js';
import { WatchService } from '../../control/discovery/watch-service.js';
import type { ClusterSource } from '../../control/sources/source.js';
import { manifestDirectory, type ManifestDirectory } from '../support/manifest-directory.js';

const GATEWAY = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'wp', namespace: 'shop', uid: 'gw-uid-1' },
  spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
};
const GATEWAY_CLASS = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'weft-waypoint' },
  spec: { controllerName: 'weft.dev/waypoint-controller' },
};

async function expectGenerated(source: ClusterSource): Promise<void> {
  const ref = { namespace: 'shop', name: 'wp' };
  const deploy = asKind(await eventually(() => source.get({ kind: 'Deployment', ...ref }), 15_000, 'Deployment'), 'Deployment')!;
  const sa = await eventually(() => source.get({ kind: 'ServiceAccount', ...ref }), 15_000, 'ServiceAccount');
  const svc = asKind(await eventually(() => source.get({ kind: 'Service', ...ref }), 15_000, 'Service'), 'Service')!;
  const pdb = await eventually(() => source.get({ kind: 'PodDisruptionBudget', ...ref }), 15_000, 'PodDisruptionBudget');
  for (const o of [deploy, sa, svc, pdb]) {
    expect(o.metadata.ownerReferences).toEqual([
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'wp', uid: 'gw-uid-1', controller: true, blockOwnerDeletion: true },
    ]);
  }
  expect(deploy.spec.replicas).toBe(2);
  const podSpec = deploy.spec.template.spec as Record<string, unknown>;
  const selector = { matchLabels: deploy.spec.selector.matchLabels };
  expect(podSpec.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }]);
  expect(podSpec.affinity).toEqual({
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: selector } }] },
  });
  expect(pdb.apiVersion).toBe('policy/v1');
  expect(pdb.spec).toEqual({ maxUnavailable: 1, selector });
  const container = deploy.spec.template.spec.containers?.[0];
  // No parametersRef on the class: the chart's defaults, never an image nobody publishes (weft/waypoint).
  expect(container?.image).toBe(DEFAULT_WAYPOINT_IMAGE);
  expect(DEFAULT_WAYPOINT_IMAGE).toMatch(/^ghcr\.io\/weft-mesh\/weft:\d+\.\d+\.\d+/);
  expect((container as { resources?: unknown }).resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  expect((container as { securityContext?: unknown }).securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true });
  expect(container?.args?.slice(0, 4)).toEqual(['--gateway', 'shop/wp', '--control', '172.30.0.254:15012']);
  expect(container?.args).toContain('--token-file');
  expect(container?.args).toContain('--ca-root');
  expect(deploy.spec.template.spec.serviceAccountName).toBe('wp');
  expect(deploy.spec.template.metadata?.labels?.['weft.dev/dataplane-mode']).toBe('none');
  expect(svc.spec?.ports).toEqual([{ name: 'mesh', port: 15008, targetPort: 15008, protocol: 'TCP', appProtocol: 'hbone' }]);
  expect(svc.spec?.selector).toEqual(deploy.spec.selector.matchLabels);
}

describe('waypoint controller', () => {
  describe('on Kubernetes', () => {
    let api: KubeApiServerDouble;
    let source: KubeSource;
    let controller: WaypointController | undefined;
    beforeEach(async () => {
      api = await KubeApiServerDouble.start({ garbageCollect: false }); // the controller must clean up itself
      source = new KubeSource({ kubeConfig: kubeconfigFor(api) });
    });
    afterEach(async () => {
      await controller?.stop();
      await source.stop();
      await api.close();
    });

    it('applies the waypoint objects server-side, writes status, and cleans up', async () => {
      api.put(GATEWAY);
      api.put(GATEWAY_CLASS);
      await source.start();
      const leader = new ManualLeader();
      const compiler = new Compiler(source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
      const watch = new WatchService({ source, compiler, debounceMs: 5 });
      watch.start();
      controller = new WaypointController({ source, leader, controlAddress: '172.30.0.254:15012', debounceMs: 10, propagation: watch });
      controller.start();
      // Not the leader: a pass (what a change or leadership runs) writes nothing.
      await controller.reconcile();
      await controller.idle();
      expect(api.requests.filter((r) => r.method !== 'GET')).toEqual([]);

      leader.lead();
      await expectGenerated(source);
      const applies = api.requests.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status'));
      expect(applies.length).toBe(4);
      expect(applies.every((r) => r.query.fieldManager === 'weft-waypoint-controller' && r.query.force === 'true')).toBe(true);

      // GatewayClass accepted; Gateway accepted and, once the Service has an IP, a replica is Ready and
      // the node agents of the namespace's nodes know it, programmed with it.
      await eventually(() => (asKind(source.get({ kind: 'GatewayClass', name: 'weft-waypoint' }), 'GatewayClass')?.status?.conditions?.[0]?.reason === 'Accepted'), 15_000, 'class accepted');
      const svc = api.getObject('services', 'shop', 'wp')!;
      api.put({ ...svc, spec: { ...(svc.spec as object), clusterIP: '10.96.0.42', clusterIPs: ['10.96.0.42'] } });
      const programmed = () => asKind(source.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.status?.conditions?.find((c) => c.type === 'Programmed');
      await eventually(() => programmed()?.message?.includes('0 of 2 ready'), 15_000, 'waiting for a ready replica');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      // A captured client pod on node n1, and a replica that is Ready: no agent of n1 watches discovery.
      api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/dataplane-mode': 'ambient' } } });
      api.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'shop', uid: 'client-uid' }, spec: { nodeName: 'n1' }, status: { phase: 'Running', podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] } });
      const replica = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wp-abcde', namespace: 'shop', uid: 'wp-uid-1', labels: { 'gateway.networking.k8s.io/gateway-name': 'wp', 'weft.dev/dataplane-mode': 'none' } }, spec: { nodeName: 'n2' } };
      api.put({ ...replica, status: { phase: 'Running', podIP: '10.244.2.7', conditions: [{ type: 'Ready', status: 'False' }] } });
      // Once the controller has seen the replica (its pass is over and the source has its status write):
      // started but not Ready is still pending.
      await eventually(() => source.get({ kind: 'Pod', namespace: 'shop', name: 'wp-abcde' }) !== undefined, 15_000, 'replica seen');
      await new Promise((r) => setImmediate(r)); // the source hands a change over one tick after it stores it
      await controller.idle();
      await eventually(() => sourceCaughtUp(api, source, ['Gateway']), 15_000, 'source saw the Gateway status');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      expect(programmed()?.message).toContain('0 of 2 ready');
      api.put({ ...replica, status: { phase: 'Running', podIP: '10.244.2.7', conditions: [{ type: 'Ready', status: 'True' }] } });
      await eventually(() => programmed()?.message?.includes('node agent of node n1 is not watching discovery'), 15_000, 'waiting for the node agents');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      // The client moves off the mesh (no agent needs to know): Programmed.
      api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      const gw = await eventually(() => {
        const g = asKind(source.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway');
        return g?.status?.conditions?.find((c) => c.type === 'Programmed')?.status === 'True' ? g : undefined;
      }, 15_000, 'gateway programmed');
      expect(gw.status?.addresses).toEqual([{ type: 'IPAddress', value: '10.96.0.42' }]);
      expect(gw.status?.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });

      // Steady state: another pass writes nothing.
      await controller.idle();
      const writes = api.requests.filter((r) => r.method !== 'GET').length;
      await controller.reconcile();
      expect(api.requests.filter((r) => r.method !== 'GET').length).toBe(writes);

      api.remove('gateways', 'shop', 'wp', 'gateway.networking.k8s.io');
      await eventually(() => ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget'].every((k) => source.get({ kind: k as never, namespace: 'shop', name: 'wp' }) === undefined), 15_000, 'cleanup');
      // A pass that runs before the watch reports a deletion may delete again (a harmless 404): compare the set.
      expect([...new Set(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path))].sort()).toEqual([
        '/api/v1/namespaces/shop/serviceaccounts/wp',
        '/api/v1/namespaces/shop/services/wp',
        '/apis/apps/v1/namespaces/shop/deployments/wp',
        '/apis/policy/v1/namespaces/shop/poddisruptionbudgets/wp',
      ]);
      watch.close();
    });
  });

  describe('in a directory', () => {
    let dir: string;
    let source: DirectorySource;
    let cluster: ManifestDirectory;
    let controller: WaypointController;
    beforeEach(async () => {
      cluster = await manifestDirectory('weft-t-waypoints-', { 'Gateway.shop.wp.yaml': [GATEWAY], 'GatewayClass.weft-waypoint.yaml': [GATEWAY_CLASS] });
      ({ dir, source } = cluster);
    });
    afterEach(async () => {
      await controller.stop();
      await cluster.remove();
    });

    it('writes the waypoint objects into generated/ and removes them with the Gateway', async () => {
      const leader = new AlwaysLeader();
      controller = new WaypointController({ source, leader, controlAddress: '172.30.0.254:15012', debounceMs: 10 });
      controller.start();
      leader.start();
      await expectGenerated(source);
      expect((await readdir(path.join(dir, 'generated'))).sort()).toEqual(['Deployment.shop.wp.yaml', 'PodDisruptionBudget.shop.wp.yaml', 'Service.shop.wp.yaml', 'ServiceAccount.shop.wp.yaml']);
      // Pending until the generated objects are observed, then AddressNotAssigned: nobody allocated a cluster IP.
      const programmed = () => asKind(source.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.status?.conditions?.find((c) => c.type === 'Programmed');
      await eventually(() => programmed()?.reason === 'AddressNotAssigned', 15_000, 'gateway status');
      expect(programmed()?.status).toBe('False');
      expect((await readdir(path.join(dir, 'status'))).sort()).toEqual(['Gateway.shop.wp.yaml', 'GatewayClass.weft-waypoint.yaml']);

      await rm(path.join(dir, 'manifests', 'Gateway.shop.wp.yaml'));
      await eventually(async () => (await readdir(path.join(dir, 'generated'))).length === 0, 15_000, 'generated/ emptied');
    });
  });
});
