// Pins: the Kubernetes source's writes hit the API the way a real server expects — status through the
// `/status` subresource (merge-patch, spec untouched), objects through server-side apply with a field manager
// and force, deletes tolerant of already-gone objects — and TokenReview passes token and audiences through.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import type { KubeObject } from '../../control/sources/source.js';

describe('KubeSource writes', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['HTTPRoute', 'ServiceAccount', 'Service'] });
    await source.start();
  });
  afterEach(async () => {
    await source.stop();
    await api.close();
  });

  it('writes status through the status subresource only', async () => {
    api.put({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'default' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'svc' }] },
    });
    const status = { parents: [{ parentRef: { group: '', kind: 'Service', name: 'svc' }, controllerName: 'weft.dev/control', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] }] };
    await source.writeStatus({ kind: 'HTTPRoute', namespace: 'default', name: 'r' }, status);
    const stored = api.getObject('httproutes', 'default', 'r', 'gateway.networking.k8s.io');
    expect(stored?.status).toEqual(status);
    expect(stored?.spec).toEqual({ parentRefs: [{ group: '', kind: 'Service', name: 'svc' }] });
    expect(api.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/httproutes/r/status'))).toBe(true);
    await eventually(() => (source.get({ kind: 'HTTPRoute', namespace: 'default', name: 'r' })?.status as typeof status | undefined)?.parents?.length === 1);
  });

  it('applies objects server-side with a field manager, and deletes them', async () => {
    const sa: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'w', namespace: 'ns1', labels: { a: '1' } } };
    await source.apply(sa, 'weft-test');
    await source.apply({ ...sa, metadata: { ...sa.metadata, labels: { a: '2' } } }, 'weft-test');
    const req = api.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/ns1/serviceaccounts/w');
    expect(req).toHaveLength(2);
    expect(req[0]?.query).toMatchObject({ fieldManager: 'weft-test', force: 'true' });
    expect(api.getObject('serviceaccounts', 'ns1', 'w')?.metadata.labels).toEqual({ a: '2' });
    await eventually(() => source.get({ kind: 'ServiceAccount', namespace: 'ns1', name: 'w' })?.metadata.labels?.a === '2');
    await source.delete({ kind: 'ServiceAccount', namespace: 'ns1', name: 'w' });
    await source.delete({ kind: 'ServiceAccount', namespace: 'ns1', name: 'w' }); // already gone: fine
    expect(api.getObject('serviceaccounts', 'ns1', 'w')).toBeUndefined();
  });

  it('reviews tokens with the requested audiences', async () => {
    api.setToken('tok-1', { username: 'system:serviceaccount:weft-system:weft-node-agent', audiences: ['weft'], extra: { 'authentication.kubernetes.io/node-name': ['n1'] } });
    const ok = await source.tokenReview('tok-1', ['weft']);
    expect(ok.authenticated).toBe(true);
    expect(ok.user?.username).toBe('system:serviceaccount:weft-system:weft-node-agent');
    expect(ok.user?.extra?.['authentication.kubernetes.io/node-name']).toEqual(['n1']);
    expect((await source.tokenReview('tok-1', ['other'])).authenticated).toBe(false);
    expect((await source.tokenReview('nope', ['weft'])).authenticated).toBe(false);
  });

  it('surfaces API failures as typed errors', async () => {
    await expect(source.writeStatus({ kind: 'HTTPRoute', namespace: 'default', name: 'missing' }, {})).rejects.toMatchObject({ code: 'ERR_WEFT_SOURCE_KUBE_REQUEST' });
  });
});
