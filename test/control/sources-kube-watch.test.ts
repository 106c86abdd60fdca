// Pins: the Kubernetes source, driven by the real @kubernetes/client-node informers against the API double,
// reflects adds, updates and deletes of every kind after the initial list, and batches them as `change` events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually as until, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';
import type { SourceChange } from '../../control/sources/source.js';

function pod(name: string, labels: Record<string, string> = {}, ns = 'default') {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { nodeName: 'n1', serviceAccountName: 'sa' } };
}

describe('KubeSource watch', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
  });
  afterEach(async () => {
    await source?.stop();
    await api.close();
  });

  it('lists existing objects, then follows adds, updates and deletes', async () => {
    api.put(pod('a'));
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'weft.dev/dataplane-mode': 'ambient' } } });
    source = new KubeSource({ kubeConfig: kubeconfigFor(api) });
    const batches: SourceChange[][] = [];
    source.on('change', (c) => batches.push([...c]));
    await source.start();
    expect(source.list('Pod').map((p) => p.metadata.name)).toEqual(['a']);
    expect(source.get({ kind: 'Namespace', name: 'default' })?.metadata.labels).toEqual({ 'weft.dev/dataplane-mode': 'ambient' });
    expect(source.list('Pod')[0]?.kind).toBe('Pod'); // filled in although list items carry no kind

    api.put(pod('b'));
    await until(() => source.get({ kind: 'Pod', namespace: 'default', name: 'b' }));
    api.put(pod('a', { app: 'x' }));
    await until(() => source.get({ kind: 'Pod', namespace: 'default', name: 'a' })?.metadata.labels?.app === 'x');
    api.remove('pods', 'default', 'b');
    await until(() => source.get({ kind: 'Pod', namespace: 'default', name: 'b' }) === undefined);
    const flat = batches.flat().map((c) => `${c.type}:${c.object.metadata.name}`);
    expect(flat).toEqual(expect.arrayContaining(['upsert:b', 'upsert:a', 'delete:b']));
  });
});
