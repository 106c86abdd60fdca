// Pins the cluster-mode trust-root contract: the control plane publishes ConfigMap `weft-ca-root` with key
// `root-cert.pem` (what the node-agent DaemonSet and the generated waypoint Deployments mount for --ca-root)
// in its own namespace and in every namespace that runs a waypoint, keeps it up to date (new waypoint
// namespaces, root rotation, a ConfigMap edited or deleted by hand) and writes only while it leads.
// Against the Kubernetes API double with the real client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import { CA_ROOT_CONFIGMAP, CA_ROOT_KEY, CaRootPublisher } from '../../control/ca-root-configmap.js';
import { AlwaysLeader } from '../../control/leader.js';
import { ManualLeader } from '../support/manual-leader.js';
import { DEFAULT_CA_ROOT_PATH } from '../../control/waypoints/objects.js';

const ROOT_A = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const ROOT_B = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';

const gateway = (ns: string, name: string, className = 'weft-waypoint') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns },
  spec: { gatewayClassName: className, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});

describe('trust root ConfigMap (cluster mode)', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource;
  let publisher: CaRootPublisher | undefined;
  const rootIn = (ns: string) => (api.getObject('configmaps', ns, CA_ROOT_CONFIGMAP) as { data?: Record<string, string> } | undefined)?.data?.[CA_ROOT_KEY];

  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    api.put(gateway('shop', 'waypoint'));
    api.put(gateway('other', 'ingress', 'some-other-class'));
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['Gateway', 'Namespace'] });
    await source.start();
  });
  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
    await source.stop();
    await api.close();
  });

  it('is what the waypoint Deployments and the node agents mount', () => {
    expect(DEFAULT_CA_ROOT_PATH.endsWith(`/${CA_ROOT_KEY}`)).toBe(true);
    expect(CA_ROOT_CONFIGMAP).toBe('weft-ca-root');
  });

  it('publishes the roots in the control namespace and every waypoint namespace, and keeps them current', async () => {
    const leader = new AlwaysLeader();
    publisher = new CaRootPublisher({ api: source.api, source, leader, namespace: 'weft-system', rootsPem: [ROOT_A], debounceMs: 10, resyncMs: 300 });
    publisher.start();
    leader.start();
    await eventually(() => rootIn('weft-system') === ROOT_A && rootIn('shop') === ROOT_A, 15_000, 'published');
    expect(rootIn('other')).toBeUndefined(); // not a weft waypoint
    const cm = api.getObject('configmaps', 'shop', CA_ROOT_CONFIGMAP)!;
    expect(cm.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('weft-control');
    expect(api.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/shop/configmaps/weft-ca-root' && r.query.fieldManager === 'weft-control')).toBe(true);

    // A namespace that gets a waypoint gets the ConfigMap.
    api.put(gateway('payments', 'wp'));
    await eventually(() => rootIn('payments') === ROOT_A, 15_000, 'new waypoint namespace');

    // Deleted or edited by hand: repaired by the periodic check.
    api.remove('configmaps', 'shop', CA_ROOT_CONFIGMAP);
    api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_ROOT_CONFIGMAP, namespace: 'payments' }, data: { [CA_ROOT_KEY]: 'tampered' } });
    await eventually(() => rootIn('shop') === ROOT_A && rootIn('payments') === ROOT_A, 15_000, 'repaired');

    // Root rotation: both roots everywhere.
    publisher.setRoots([ROOT_A, ROOT_B]);
    await eventually(() => ['weft-system', 'shop', 'payments'].every((ns) => rootIn(ns) === ROOT_A + ROOT_B), 15_000, 'rotated');

    // Nothing to do: a pass only reads. Two more resync passes (each reads all three ConfigMaps), then idle.
    await publisher.idle();
    const patches = () => api.requests.filter((r) => r.method === 'PATCH').length;
    const reads = () => api.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/configmaps/${CA_ROOT_CONFIGMAP}`)).length;
    const writes = patches();
    const readsBefore = reads();
    await eventually(() => reads() >= readsBefore + 2 * 3, 15_000, 'two resync passes');
    await publisher.idle();
    expect(patches()).toBe(writes);
  });

  it('writes only while leading', async () => {
    const follower = new ManualLeader('follower');
    publisher = new CaRootPublisher({ api: source.api, source, leader: follower, namespace: 'weft-system', rootsPem: [ROOT_A], debounceMs: 10, resyncMs: 200 });
    publisher.start();
    // Several resync passes came and were refused by the gate (each asks the leader first).
    const asked = follower.asked;
    await eventually(() => follower.asked >= asked + 2, 15_000, 'resync passes while following');
    await publisher.idle();
    expect(api.objects('configmaps')).toEqual([]);
    follower.lead();
    await eventually(() => rootIn('weft-system') === ROOT_A && rootIn('shop') === ROOT_A, 15_000, 'published once leading');
  });
});
