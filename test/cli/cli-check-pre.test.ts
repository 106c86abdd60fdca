// Pins: `weft check --pre` reports what blocks an install before it happens: missing permissions (from
// SelfSubjectAccessReviews), another mesh's CNI DaemonSet, nodes with old kernels, absent Gateway API CRDs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../cli/commands/check.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { addApiExtras, capture, kubeClient, seedHealthyInstall, type ApiExtras } from './cluster-fixture.js';

describe('weft check --pre', () => {
  let api: KubeApiServerDouble;
  let extras: ApiExtras;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    extras = addApiExtras(api);
    await seedHealthyInstall(api);
  });
  afterEach(() => api.close());

  async function pre(): Promise<Record<string, { status: string; message: string; fix?: string }>> {
    const results = await runChecks(kubeClient(api), { pre: true, namespace: 'weft-system' });
    return Object.fromEntries(results.map((r) => [r.check, r]));
  }

  it('passes on a ready cluster, exit 0', async () => {
    const c = capture();
    expect(await checkCommand(kubeClient(api), { pre: true, namespace: 'weft-system', output: 'table' }, c.printer)).toBe(0);
    expect(c.out.filter((l) => l.startsWith('✔')).map((l) => l.split(':')[0])).toEqual(['✔ Kubernetes API', '✔ permissions', '✔ no other mesh CNI', '✔ node kernels', '✔ Gateway API CRDs']);
  });

  it('names each permission the user lacks', async () => {
    extras.allow = (a) => !(a.resource === 'customresourcedefinitions' || (a.resource === 'daemonsets' && a.namespace === 'weft-system'));
    const r = (await pre()).permissions;
    expect(r.status).toBe('fail');
    expect(r.message).toContain('create customresourcedefinitions');
    expect(r.message).toContain('create daemonsets in weft-system');
    expect(r.message).not.toContain('deployments');
    expect(r.fix).toContain('cluster-admin');
  });

  it('finds another mesh\'s CNI', async () => {
    api.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'istio-cni-node', namespace: 'istio-system' }, spec: {} });
    const r = (await pre())['no other mesh CNI'];
    expect(r.status).toBe('fail');
    expect(r.message).toContain('Istio CNI (DaemonSet istio-system/istio-cni-node)');
  });

  it('refuses nodes with an old kernel, naming them', async () => {
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'old' }, spec: {}, status: { nodeInfo: { kernelVersion: '4.19.0-25-amd64', operatingSystem: 'linux', architecture: 'amd64' } } });
    const r = (await pre())['node kernels'];
    expect(r.status).toBe('fail');
    expect(r.message).toBe('old: kernel 4.19.0-25-amd64 < 5.4');
  });

  it('requires the Gateway API CRDs before install (the chart creates a GatewayClass)', async () => {
    api.remove('customresourcedefinitions', undefined, 'gateways.gateway.networking.k8s.io', 'apiextensions.k8s.io');
    expect((await pre())['Gateway API CRDs'].status).toBe('fail');
  });
});
