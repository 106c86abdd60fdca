// Pins: an object the API server hands over that fails weft's validation is reported once (event + log)
// and kept out of the state; an object that turns invalid is removed and comes back once fixed; the other
// objects are unaffected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';

describe('KubeSource invalid objects', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
  });
  afterEach(async () => {
    await source.stop();
    await api.close();
  });

  it('reports and skips invalid objects without harming the rest', async () => {
    const route = (name: string, pathType: string) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name, namespace: 'default' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'svc' }], rules: [{ matches: [{ path: { type: pathType, value: '/' } }] }] },
    });
    api.put(route('good', 'PathPrefix'));
    api.put(route('bad', 'Prefixish'));
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['HTTPRoute'] });
    const invalid: { ref: { name?: string }; reason: string }[] = [];
    source.on('invalid', (i) => invalid.push(i));
    await source.start();
    expect(source.list('HTTPRoute').map((r) => r.metadata.name)).toEqual(['good']);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.ref.name).toBe('bad');
    expect(invalid[0]?.reason).toContain('spec.rules.0.matches.0.path.type');

    api.put(route('good', 'NoSuchType')); // turns invalid: removed from the state
    await eventually(() => source.get({ kind: 'HTTPRoute', namespace: 'default', name: 'good' }) === undefined);
    api.put(route('good', 'Exact')); // fixed: back
    await eventually(() => source.get({ kind: 'HTTPRoute', namespace: 'default', name: 'good' }));
    expect(invalid.map((i) => i.ref.name)).toEqual(['bad', 'good']);
  });
});
