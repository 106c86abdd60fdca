// Pins: the Kubernetes source is ready only once EVERY informer has listed — a kind the API server does not
// serve yet (CRD not installed) holds `start()` back and is named by `pendingKinds()`, and the informer
// keeps retrying with backoff until the kind appears; label selectors restrict both list and watch.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RESOURCES, KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';

describe('KubeSource readiness and selectors', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource | undefined;
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await api.close();
  });

  describe('without the AuthorizationPolicy CRD', () => {
    beforeEach(async () => {
      api = await KubeApiServerDouble.start({ resources: DEFAULT_RESOURCES.filter((r) => r.kind !== 'AuthorizationPolicy') });
    });

    it('does not resolve start() until the missing kind is served', async () => {
      source = new KubeSource({ kubeConfig: kubeconfigFor(api), backoff: { initialMs: 50, maxMs: 200 } });
      let ready = false;
      const started = source.start().then(() => (ready = true));
      await eventually(() => source?.pendingKinds().length === 1, 15_000, 'all but one kind synced');
      expect(source.pendingKinds()).toEqual(['AuthorizationPolicy']);
      // Retried (not given up) several times, and start() still waits.
      const attempts = () => api.requests.filter((r) => r.path.endsWith('/authorizationpolicies')).length;
      await eventually(() => attempts() >= 3, 15_000, 'list of the missing kind retried');
      expect(ready).toBe(false);
      api.register(DEFAULT_RESOURCES.find((r) => r.kind === 'AuthorizationPolicy')!);
      await started;
      expect(ready).toBe(true);
      expect(source.pendingKinds()).toEqual([]);
    });
  });

  describe('with label selectors', () => {
    beforeEach(async () => {
      api = await KubeApiServerDouble.start();
    });

    it('lists and watches only matching objects', async () => {
      const pod = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: {} });
      api.put(pod('in', { app: 'x', tier: 'web' }));
      api.put(pod('out', { app: 'y' }));
      source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['Pod'], labelSelectors: { Pod: 'app in (x,z),tier' } });
      await source.start();
      expect(source.list('Pod').map((p) => p.metadata.name)).toEqual(['in']);
      api.put(pod('later-out', { app: 'z' })); // no tier label
      api.put(pod('later-in', { app: 'z', tier: 'db' }));
      await eventually(() => source?.get({ kind: 'Pod', namespace: 'default', name: 'later-in' }));
      expect(source.list('Pod').map((p) => p.metadata.name).sort()).toEqual(['in', 'later-in']);
      expect(api.requests.filter((r) => r.path === '/api/v1/pods').every((r) => r.query.labelSelector === 'app in (x,z),tier')).toBe(true);
    });
  });
});
