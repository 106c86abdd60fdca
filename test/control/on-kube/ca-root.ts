// Pins the cluster-mode trust-root contract on a real API server: the control plane publishes ConfigMap
// `weft-ca-root` with key `root-cert.pem` (what the node-agent DaemonSet and the generated waypoint
// Deployments mount for --ca-root) in its own namespace and in every namespace that runs a waypoint, keeps
// it up to date (new waypoint namespaces, root rotation, a ConfigMap edited or deleted by hand) and writes
// only while it leads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeSource } from '../../../control/sources/kube.js';
import { CA_ROOT_CONFIGMAP, CA_ROOT_KEY, CaRootPublisher } from '../../../control/ca-root-configmap.js';
import { AlwaysLeader } from '../../../control/leader.js';
import { DEFAULT_CA_ROOT_PATH } from '../../../control/waypoints/objects.js';
import { eventually } from '../../support/eventually.js';
import { ManualLeader } from '../../support/manual-leader.js';
import type { KubeServer } from '../../support/kube-server.js';

const ROOT_A = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const ROOT_B = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';

const gateway = (ns: string, name: string, className = 'weft-waypoint') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns },
  spec: { gatewayClassName: className, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});

export function describeCaRoot(kube: () => KubeServer): void {
  describe('trust root ConfigMap (cluster mode) on a real API server', () => {
    let source: KubeSource;
    let publisher: CaRootPublisher | undefined;
    const rootIn = async (ns: string) => (await kube().get('ConfigMap', ns, CA_ROOT_CONFIGMAP))?.data?.[CA_ROOT_KEY];

    beforeEach(async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } });
      await k.put(gateway('shop', 'waypoint'));
      await k.put(gateway('other', 'ingress', 'some-other-class'));
      source = new KubeSource({ kubeConfig: k.kc, kinds: ['Gateway', 'Namespace'] });
      await source.start();
    });
    afterEach(async () => {
      await publisher?.stop();
      publisher = undefined;
      await source.stop();
    });

    it('is what the waypoint Deployments and the node agents mount', () => {
      expect(DEFAULT_CA_ROOT_PATH.endsWith(`/${CA_ROOT_KEY}`)).toBe(true);
      expect(CA_ROOT_CONFIGMAP).toBe('weft-ca-root');
    });

    it('publishes the roots in the control namespace and every waypoint namespace, and keeps them current', async () => {
      const k = kube();
      const leader = new AlwaysLeader();
      publisher = new CaRootPublisher({ api: source.api, source, leader, namespace: 'weft-system', rootsPem: [ROOT_A], debounceMs: 10, resyncMs: 300 });
      publisher.start();
      leader.start();
      await eventually(async () => (await rootIn('weft-system')) === ROOT_A && (await rootIn('shop')) === ROOT_A, 15_000, 'published');
      expect(await rootIn('other')).toBeUndefined(); // not a weft waypoint
      const cm = (await k.get('ConfigMap', 'shop', CA_ROOT_CONFIGMAP))!;
      expect(cm.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('weft-control');
      expect(k.requests().some((r) => r.verb === 'patch' && r.path === '/api/v1/namespaces/shop/configmaps/weft-ca-root' && r.query.fieldManager === 'weft-control')).toBe(true);

      // A namespace that gets a waypoint gets the ConfigMap.
      await k.put(gateway('payments', 'wp'));
      await eventually(async () => (await rootIn('payments')) === ROOT_A, 15_000, 'new waypoint namespace');

      // Deleted or edited by hand: repaired by the periodic check.
      await k.remove('ConfigMap', 'shop', CA_ROOT_CONFIGMAP);
      await k.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_ROOT_CONFIGMAP, namespace: 'payments' }, data: { [CA_ROOT_KEY]: 'tampered' } });
      await eventually(async () => (await rootIn('shop')) === ROOT_A && (await rootIn('payments')) === ROOT_A, 15_000, 'repaired');

      // Root rotation: both roots everywhere.
      publisher.setRoots([ROOT_A, ROOT_B]);
      await eventually(async () => (await Promise.all(['weft-system', 'shop', 'payments'].map(rootIn))).every((r) => r === ROOT_A + ROOT_B), 15_000, 'rotated');

      // Nothing to do: a pass only reads. Two more resync passes (each reads all three ConfigMaps), then idle.
      await publisher.idle();
      const byControl = () => k.requests().filter((r) => r.path.endsWith(`/configmaps/${CA_ROOT_CONFIGMAP}`));
      const writes = byControl().filter((r) => r.verb === 'patch').length;
      const readsBefore = byControl().filter((r) => r.verb === 'get').length;
      await eventually(() => byControl().filter((r) => r.verb === 'get').length >= readsBefore + 2 * 3, 15_000, 'two resync passes');
      await publisher.idle();
      expect(byControl().filter((r) => r.verb === 'patch').length).toBe(writes);
    });

    it('writes only while leading', async () => {
      const k = kube();
      const follower = new ManualLeader('follower');
      publisher = new CaRootPublisher({ api: source.api, source, leader: follower, namespace: 'weft-system', rootsPem: [ROOT_A], debounceMs: 10, resyncMs: 200 });
      publisher.start();
      // Several resync passes came and were refused by the gate (each asks the leader first).
      const asked = follower.asked;
      await eventually(() => follower.asked >= asked + 2, 15_000, 'resync passes while following');
      await publisher.idle();
      expect((await k.list('ConfigMap')).filter((c) => c.metadata.name === CA_ROOT_CONFIGMAP)).toEqual([]);
      follower.lead();
      await eventually(async () => (await rootIn('weft-system')) === ROOT_A && (await rootIn('shop')) === ROOT_A, 15_000, 'published once leading');
    });
  });
}
