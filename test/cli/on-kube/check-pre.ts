// Pins `weft check --pre` on a real API server: it reports what blocks an install before it happens:
// missing permissions (the server's own SelfSubjectAccessReviews for a user RBAC lets do only part of
// what the chart creates), another mesh's CNI DaemonSet, nodes with old kernels, absent Gateway API CRDs.
import { describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../../cli/commands/check.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';
import { TEST_LABEL } from '../../support/kube-server-objects.js';
import { MESH_NS, capture, node, seedHealthyInstall } from '../cluster-fixture.js';

export function describeCheckPre(kube: () => KubeServer): void {
  describe('weft check --pre on a real API server', () => {
    const setup = async (): Promise<{ k: KubeServer; client: KubeClusterClient }> => {
      const k = kube();
      await seedHealthyInstall(k);
      return { k, client: new KubeClusterClient(k.kc) };
    };
    async function pre(client: KubeClusterClient): Promise<Record<string, { status: string; message: string; fix?: string }>> {
      const results = await runChecks(client, { pre: true, namespace: MESH_NS });
      return Object.fromEntries(results.map((r) => [r.check, r]));
    }

    it('passes on a ready cluster for a cluster admin, exit 0', async () => {
      const { client } = await setup();
      const c = capture();
      expect(await checkCommand(client, { pre: true, namespace: MESH_NS, output: 'table' }, c.printer)).toBe(0);
      expect(c.out.filter((l) => l.startsWith('✔')).map((l) => l.split(':')[0])).toEqual(['✔ Kubernetes API', '✔ permissions', '✔ no other mesh CNI', '✔ node kernels', '✔ Gateway API CRDs']);
    });

    it('names each permission the user lacks', async () => {
      const { k } = await setup();
      // May create all the chart creates but CustomResourceDefinitions and DaemonSets.
      const labels = { [TEST_LABEL]: 'true' };
      await k.put({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'weft-test-installer', labels },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'services', 'secrets'], verbs: ['create'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] },
          { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['create'] },
        ],
      });
      await k.put({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'weft-test-installer', labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'weft-test-installer' },
        subjects: [{ kind: 'ServiceAccount', name: 'installer', namespace: 'tools' }],
      });
      const client = new KubeClusterClient(k.kubeConfigWithToken(await k.tokenFor('tools', 'installer')));
      const r = (await pre(client)).permissions;
      expect(r.status).toBe('fail');
      expect(r.message).toBe(`the current user cannot create customresourcedefinitions, create daemonsets in ${MESH_NS}`);
      expect(r.fix).toContain('cluster-admin');
    });

    it("finds another mesh's CNI", async () => {
      const { k, client } = await setup();
      const labels = { 'k8s-app': 'istio-cni-node' };
      await k.put({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'istio-cni-node', namespace: 'istio-system' },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'install-cni', image: 'istio/install-cni' }] } } },
      });
      const r = (await pre(client))['no other mesh CNI'];
      expect(r.status).toBe('fail');
      expect(r.message).toContain('Istio CNI (DaemonSet istio-system/istio-cni-node)');
    });

    it('refuses nodes with an old kernel, naming them', async () => {
      const { k, client } = await setup();
      await k.put(node('old', { kernel: '4.19.0-25-amd64' }));
      const r = (await pre(client))['node kernels'];
      expect(r.status).toBe('fail');
      expect(r.message).toBe('old: kernel 4.19.0-25-amd64 < 5.4');
    });

    it('requires the Gateway API CRDs before install (the chart creates a GatewayClass)', async () => {
      const { k, client } = await setup();
      await k.withoutCrds(['gateways.gateway.networking.k8s.io'], async () => {
        expect((await pre(client))['Gateway API CRDs'].status).toBe('fail');
      });
    });
  });
}
