// Pins, on a real API server, that the Kubernetes source survives a watch that breaks: a dropped
// connection resumes the watch from its resourceVersion without relisting, and when etcd was compacted
// past that resourceVersion meanwhile, the server's 410 Gone makes it relist and converge on changes it
// never saw as events (a pod added, a pod deleted). The network between the source and the server is a
// TCP proxy the test cuts and holds; the compaction is etcd's own.
// Its own server, not a suite of kube-api-server.test.ts: the server runs without its watch cache
// (--watch-cache=false). With the cache, a resumed watch is served from the cache's window, which
// outlives etcd's compaction, so only a server reading etcd directly answers 410 after one; and the
// compaction would reach into every other suite's objects.
// What a real server does not do on cue (a 410 to an open watch, a bookmark now, an HTTP 500 to a watch):
// sources-kube-relist.test.ts, on the API double.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeSource } from '../../control/sources/kube.js';
import { eventually } from '../support/eventually.js';
import { startKubeServer, type KubeServer } from '../support/kube-server.js';
import { describeKubeTools } from '../support/kube-tools.js';

/** A TCP proxy to the API server that the test can cut (a dropped connection) or hold (a partition). */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private held: Socket[] | undefined;
  private readonly server: Server = createServer((client) => this.accept(client));

  constructor(private readonly target: URL) {}

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Closes every connection; new ones go through. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Closes every connection and keeps new ones waiting until release(). */
  hold(): void {
    this.held = [];
    this.cut();
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const c of waiting) this.pipe(c);
  }

  async close(): Promise<void> {
    this.release();
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.held !== undefined) {
      client.pause();
      this.held.push(client);
      return;
    }
    this.pipe(client);
  }

  private pipe(client: Socket): void {
    const upstream = connect(Number(this.target.port), this.target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.resume();
  }
}

/** Compacts etcd up to its current revision (physically): every older resourceVersion is gone. */
async function compactEtcd(etcdUrl: string): Promise<void> {
  const post = async (path: string, body: unknown): Promise<{ header?: { revision?: string } }> => {
    const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { header?: { revision?: string } };
  };
  const { header } = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  await post('/v3/kv/compaction', { revision: header?.revision, physical: true });
}

function pod(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } };
}

describeKubeTools('KubeSource when its watch breaks, on a real API server without a watch cache', () => {
  let k: KubeServer | undefined;
  let proxy: CuttableProxy;
  let source: KubeSource;
  const kube = (): KubeServer => {
    if (k === undefined) throw new Error('the API server did not start (see beforeAll)');
    return k;
  };
  const podRequests = (verb: string) => kube().requests().filter((r) => r.path === '/api/v1/pods' && r.verb === verb);

  beforeAll(async () => {
    k = await startKubeServer({ apiserverArgs: ['--watch-cache=false'] });
  }, 120_000);
  afterAll(async () => {
    await k?.stop();
  }, 30_000);

  const start = async (): Promise<void> => {
    const server = kube();
    await server.put(pod('a'));
    proxy = new CuttableProxy(new URL(server.url));
    const url = await proxy.listen();
    // The admin's credentials, through the proxy.
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: server.kc.clusters.map((c) => ({ ...c, server: url })), users: server.kc.users, contexts: server.kc.contexts, currentContext: server.kc.currentContext });
    source = new KubeSource({ kubeConfig: kc, kinds: ['Pod', 'Service'], backoff: { initialMs: 50, maxMs: 200 } });
    await source.start();
    await eventually(() => podRequests('watch').length === 1, 15_000, 'the pod watch');
  };
  afterEach(async () => {
    await source?.stop();
    await proxy?.close();
    await k?.reset();
  }, 60_000);

  it('resumes a dropped watch from its resourceVersion without relisting', async () => {
    await start();
    const lists = podRequests('list').length;
    const watches = podRequests('watch').length;
    proxy.cut();
    await kube().put(pod('e'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'e' }), 15_000, 'pod e');
    expect(podRequests('watch').length).toBeGreaterThan(watches);
    expect(podRequests('watch').at(-1)?.query.resourceVersion).toMatch(/^\d+$/);
    expect(podRequests('list').length).toBe(lists);
  });

  it('relists after 410 Gone (etcd compacted past its resourceVersion) and converges on changes it never saw as events', async () => {
    await start();
    const lists = podRequests('list').length;
    proxy.hold();
    await kube().put(pod('c'));
    await kube().remove('Pod', 'default', 'a');
    await compactEtcd(kube().etcdUrl); // the events above are gone: only a relist can see them
    proxy.release();
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'c' }), 15_000, 'pod c after the relist');
    await eventually(() => source.get({ kind: 'Pod', namespace: 'default', name: 'a' }) === undefined, 15_000, 'pod a gone');
    expect(podRequests('list').length).toBeGreaterThan(lists);
  });
});
