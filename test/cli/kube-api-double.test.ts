// Pins: the Kubernetes API double speaks enough of the API for the real client's typed APIs, which the CLI's
// tests (weft check, weft namespace) rely on: CoreV1Api list/read/create (409 on a second create),
// KubernetesObjectApi with discovery and server-side apply, JSON and merge patches, and /version.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api, KubernetesObjectApi, VersionApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { KubeApiServerDouble, kubeconfigFor } from '../support/kube-apiserver.js';

describe('Kubernetes API double with the typed client', () => {
  let api: KubeApiServerDouble;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('serves CoreV1Api, VersionApi and KubernetesObjectApi', async () => {
    const kc = kubeconfigFor(api);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop', labels: { a: 'b' } } } });
    const list = await core.listNamespace({ labelSelector: 'a=b' });
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['shop']);
    await core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 's' }, stringData: { k: 'v' } } });
    await expect(core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 's' } } })).rejects.toMatchObject({ code: 409 });
    const secret = await core.readNamespacedSecret({ namespace: 'shop', name: 's' });
    expect(secret.metadata?.uid).toBeTruthy();
    expect(secret.data).toEqual({ k: Buffer.from('v').toString('base64') });

    await core.patchNamespace(
      { name: 'shop', body: [{ op: 'add', path: '/metadata/labels/weft.dev~1dataplane-mode', value: 'ambient' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await core.patchNamespace({ name: 'shop', body: { metadata: { labels: { a: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect((await core.readNamespace({ name: 'shop' })).metadata?.labels).toEqual({ 'weft.dev/dataplane-mode': 'ambient' });

    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe('1');

    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.patch(
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'weft-waypoint' }, spec: { controllerName: 'weft.dev/waypoint-controller' } },
      undefined,
      undefined,
      'weft-test',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(api.getObject('gatewayclasses', undefined, 'weft-waypoint', 'gateway.networking.k8s.io')?.spec).toEqual({ controllerName: 'weft.dev/waypoint-controller' });
  });
});
