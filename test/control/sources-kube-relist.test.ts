// Pins: the Kubernetes source survives what real API servers do to long watches at moments a test cannot
// choose on a real one — an ERROR 410 event on a watch that is open (the server's cache fell behind) makes
// it relist and converge, bookmarks advance the resourceVersion it resumes from, and any other watch error
// (an HTTP 500) restarts the informer with backoff instead of leaving it dead.
// On the API double (test/support/kube-apiserver.ts), on purpose: a real API server sends these on its
// own schedule (a bookmark about once a minute, a 410 to an open watch when its watch cache cannot keep
// up) and never a 500 on cue. A dropped watch and a 410 Gone on resume after etcd's compaction run on a real
// API server: sources-kube-compaction.test.ts; everything else the source does: on-kube/source.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { KubeApiServerDouble, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeSource } from '../../control/sources/kube.js';

function pod(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1' } };
}

describe('KubeSource relist and reconnect', () => {
  let api: KubeApiServerDouble;
  let source: KubeSource;
  const podLists = (): number => api.requests.filter((r) => r.path === '/api/v1/pods' && r.query.watch === undefined).length;
  const podWatches = () => api.requests.filter((r) => r.path === '/api/v1/pods' && r.query.watch === 'true');

  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    api.put(pod('a'));
    source = new KubeSource({ kubeConfig: kubeconfigFor(api), kinds: ['Pod', 'Service'], backoff: { initialMs: 50, maxMs: 200 } });
    await source.start();
    await eventually(() => api.openWatches('pods') === 1);
  });
  afterEach(async () => {
    await source.stop();
    await api.close();
  });

  it('relists when an open watch receives an ERROR 410 event', async () => {
    const listsBefore = podLists();
    api.compact(); // open watches get {type: ERROR, object: Status 410} and end
    await eventually(() => podLists() > listsBefore, 15_000, 'relist');
    api.put(pod('d'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'd' }));
  });

  it('asks for bookmarks and resumes from the bookmarked resourceVersion', async () => {
    expect(podWatches().every((w) => w.query.allowWatchBookmarks === 'true')).toBe(true);
    api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: {} }); // moves rv, not seen by pods
    const bookmarkRv = api.resourceVersion;
    expect(api.sendBookmarks()).toBeGreaterThan(0);
    await eventually(() => source.resourceVersionOf('Pod') === bookmarkRv, 15_000, 'bookmark applied');
    const watchesBefore = podWatches().length;
    api.dropWatches('pods');
    await eventually(() => podWatches().length > watchesBefore, 15_000, 'resumed watch');
    expect(podWatches().at(-1)?.query.resourceVersion).toBe(bookmarkRv);
  });

  it('restarts the informer with backoff after other watch errors', async () => {
    api.failNextWatches(3, 500);
    const watchesBefore = podWatches().length;
    api.dropWatches('pods');
    await eventually(() => api.openWatches('pods') === 1, 15_000, 'watch re-established');
    expect(podWatches().length - watchesBefore).toBeGreaterThanOrEqual(4); // three failures, then success
    api.put(pod('f'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'f' }));
  });
});
