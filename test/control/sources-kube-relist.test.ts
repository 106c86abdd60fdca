// Pins: the Kubernetes source survives what real API servers do to long watches — a 410 Gone (expired
// resourceVersion) makes it relist and converge, a dropped watch resumes from its resourceVersion without
// relisting, bookmarks advance that resourceVersion, and any other watch error restarts the informer
// with backoff instead of leaving it dead.
// On the API double (test/support/kube-apiserver.ts), not a real server, on purpose: each test injects a
// fault at a chosen moment that a real API server does not produce on cue (a watch dropped or answered with
// an HTTP error, a 410 Gone on resume after a compaction, a bookmark now). Everything else the Kubernetes
// source does runs on a real API server: on-kube/source.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiServerDouble, eventually, kubeconfigFor } from '../support/kube-apiserver.js';
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

  it('relists after 410 Gone and converges on changes it never saw as events', async () => {
    const listsBefore = podLists();
    api.dropWatches('pods');
    api.put(pod('c'));
    api.remove('pods', 'default', 'a');
    api.compact(); // the events above are gone from the log: only a relist can see them
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'c' }), 15_000, 'pod c after relist');
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'a' }) === undefined, 15_000, 'pod a gone');
    expect(podLists()).toBeGreaterThan(listsBefore);
  });

  it('relists when an open watch receives an ERROR 410 event', async () => {
    const listsBefore = podLists();
    api.compact(); // open watches get {type: ERROR, object: Status 410} and end
    await eventually(() => podLists() > listsBefore, 15_000, 'relist');
    api.put(pod('d'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'd' }));
  });

  it('resumes a dropped watch from its resourceVersion without relisting', async () => {
    const listsBefore = podLists();
    const watchesBefore = podWatches().length;
    api.dropWatches('pods');
    api.put(pod('e'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'e' }), 15_000, 'pod e');
    expect(podWatches().length).toBeGreaterThan(watchesBefore);
    const resumed = podWatches().at(-1);
    expect(resumed?.query.resourceVersion).not.toBe('');
    expect(podLists()).toBe(listsBefore);
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
