// Pins the waypoint controller on a real API server: for a Gateway of class weft-waypoint it applies the
// ServiceAccount, Deployment, Service and PodDisruptionBudget server-side (field manager
// weft-waypoint-controller, forced), owned by the Gateway; writes GatewayClass and Gateway status, where
// Programmed waits for a Ready replica that the node agents of the namespace's nodes know, and the
// address is the ClusterIP the server allocated; does nothing while not the leader; writes nothing more
// once steady; and deletes the objects itself when the Gateway goes (no garbage collector runs here, as
// none may be relied on). What is generated: waypoint-fixtures.ts, shared with the directory test.
import { afterEach, describe, expect, it } from 'vitest';
import { KubeSource } from '../../../control/sources/kube.js';
import { WaypointController } from '../../../control/waypoints/controller.js';
import { asKind } from '../../../control/sources/schemas.js';
import { Compiler } from '../../../control/discovery/compile.js';
import { WatchService } from '../../../control/discovery/watch-service.js';
import { eventually } from '../../support/eventually.js';
import { sourceCaughtUp } from '../../support/kube-caught-up.js';
import { ManualLeader } from '../../support/manual-leader.js';
import type { KubeServer } from '../../support/kube-server.js';
import { GATEWAY, GATEWAY_CLASS, expectGenerated } from '../waypoint-fixtures.js';

const pod = (name: string, node: string, labels: Record<string, string>, ready: boolean, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

export function describeWaypoints(kube: () => KubeServer): void {
  describe('waypoint controller on a real API server', () => {
    let source: KubeSource | undefined;
    let controller: WaypointController | undefined;
    let watch: WatchService | undefined;
    afterEach(async () => {
      await controller?.stop();
      watch?.close();
      await source?.stop();
      controller = source = watch = undefined;
    });
    /** The code under test's writes (the fixture's own are not in requests()). */
    const writes = () => kube().requests().filter((r) => !['get', 'list', 'watch'].includes(r.verb));

    it('applies the waypoint objects server-side, writes status, and cleans up', async () => {
      const k = kube();
      const gateway = await k.put(GATEWAY);
      await k.put(GATEWAY_CLASS);
      const s = (source = new KubeSource({ kubeConfig: k.kc }));
      await s.start();
      const leader = new ManualLeader();
      const compiler = new Compiler(s, { trustDomain: 'cluster.local', endpoints: 'selectors' });
      watch = new WatchService({ source: s, compiler, debounceMs: 5 });
      watch.start();
      const c = (controller = new WaypointController({ source: s, leader, controlAddress: '172.30.0.254:15012', debounceMs: 10, propagation: watch }));
      c.start();
      // Not the leader: a pass (what a change or leadership runs) writes nothing.
      await c.reconcile();
      await c.idle();
      expect(writes()).toEqual([]);

      leader.lead();
      await expectGenerated(s, gateway.metadata.uid);
      const applies = writes().filter((r) => r.verb === 'patch' && !r.path.endsWith('/status'));
      expect(applies.length).toBe(4);
      expect(applies.every((r) => r.query.fieldManager === 'weft-waypoint-controller' && r.query.force === 'true')).toBe(true);

      // GatewayClass accepted; Gateway accepted and, once a replica is Ready and the node agents of the
      // namespace's nodes know it, programmed with the Service's ClusterIP.
      await eventually(() => asKind(s.get({ kind: 'GatewayClass', name: 'weft-waypoint' }), 'GatewayClass')?.status?.conditions?.[0]?.reason === 'Accepted', 15_000, 'class accepted');
      const clusterIP = (await k.get('Service', 'shop', 'wp'))?.spec?.clusterIP as string;
      expect(clusterIP).toMatch(/^10\.96\./); // allocated by the server from its Service range
      const programmed = () => asKind(s.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.status?.conditions?.find((x) => x.type === 'Programmed');
      await eventually(() => programmed()?.message?.includes('0 of 2 ready'), 15_000, 'waiting for a ready replica');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      // A captured client pod on node n1, and a replica that is not Ready yet.
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/dataplane-mode': 'ambient' } } });
      await k.put(pod('client', 'n1', {}, true, '10.244.1.5'));
      const replicaLabels = { 'gateway.networking.k8s.io/gateway-name': 'wp', 'weft.dev/dataplane-mode': 'none' };
      await k.put(pod('wp-abcde', 'n2', replicaLabels, false, '10.244.2.7'));
      // Once the controller has seen the replica (its pass is over and the source has its status write):
      // started but not Ready is still pending.
      await eventually(() => s.get({ kind: 'Pod', namespace: 'shop', name: 'wp-abcde' }) !== undefined, 15_000, 'replica seen');
      await new Promise((r) => setImmediate(r)); // the source hands a change over one tick after it stores it
      await c.idle();
      await eventually(() => sourceCaughtUp(k, s, ['Gateway']), 15_000, 'source saw the Gateway status');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      expect(programmed()?.message).toContain('0 of 2 ready');
      await k.put(pod('wp-abcde', 'n2', replicaLabels, true, '10.244.2.7'));
      await eventually(() => programmed()?.message?.includes('node agent of node n1 is not watching discovery'), 15_000, 'waiting for the node agents');
      expect(programmed()).toMatchObject({ status: 'False', reason: 'Pending' });
      // The client moves off the mesh (no agent needs to know): Programmed.
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      const gw = await eventually(() => {
        const g = asKind(s.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway');
        return g?.status?.conditions?.find((x) => x.type === 'Programmed')?.status === 'True' ? g : undefined;
      }, 15_000, 'gateway programmed');
      expect(gw.status?.addresses).toEqual([{ type: 'IPAddress', value: clusterIP }]);
      expect(gw.status?.conditions?.find((x) => x.type === 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });

      // Steady state: another pass writes nothing.
      await c.idle();
      const before = writes().length;
      await c.reconcile();
      expect(writes().length).toBe(before);

      await k.remove('Gateway', 'shop', 'wp');
      await eventually(() => ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget'].every((kind) => s.get({ kind: kind as never, namespace: 'shop', name: 'wp' }) === undefined), 15_000, 'cleanup');
      // A pass that runs before the watch reports a deletion may delete again (a harmless 404): compare the set.
      expect([...new Set(writes().filter((r) => r.verb === 'delete').map((r) => r.path))].sort()).toEqual([
        '/api/v1/namespaces/shop/serviceaccounts/wp',
        '/api/v1/namespaces/shop/services/wp',
        '/apis/apps/v1/namespaces/shop/deployments/wp',
        '/apis/policy/v1/namespaces/shop/poddisruptionbudgets/wp',
      ]);
    });

    it('applies nothing for a Gateway being deleted: its objects go, so a foreground deletion can finish', async () => {
      const k = kube();
      // A finalizer holds the Gateway after its delete, as the garbage collector's foregroundDeletion does
      // until the Gateway's dependents are gone (none runs here); reset() clears it.
      const gateway = await k.put({ ...GATEWAY, metadata: { ...GATEWAY.metadata, finalizers: ['test.weft.dev/hold'] } });
      await k.put(GATEWAY_CLASS);
      const s = (source = new KubeSource({ kubeConfig: k.kc }));
      await s.start();
      const leader = new ManualLeader();
      const c = (controller = new WaypointController({ source: s, leader, controlAddress: '172.30.0.254:15012', debounceMs: 10 }));
      c.start();
      leader.lead();
      await expectGenerated(s, gateway.metadata.uid);
      await k.remove('Gateway', 'shop', 'wp');
      await eventually(() => asKind(s.get({ kind: 'Gateway', namespace: 'shop', name: 'wp' }), 'Gateway')?.metadata.deletionTimestamp !== undefined, 15_000, 'the Gateway terminating');
      const removedAt = writes().length;
      await eventually(() => ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget'].every((kind) => s.get({ kind: kind as never, namespace: 'shop', name: 'wp' }) === undefined), 15_000, 'its objects gone');
      // More passes (each deletion is a change) apply nothing again.
      await c.reconcile();
      await c.idle();
      expect(writes().slice(removedAt).filter((r) => r.verb === 'patch' || r.verb === 'create')).toEqual([]);
      expect(s.get({ kind: 'Deployment', namespace: 'shop', name: 'wp' })).toBeUndefined();
    });
  });
}
