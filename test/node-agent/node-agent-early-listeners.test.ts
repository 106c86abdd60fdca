// Pins the restart's early listeners: the entrypoint re-opens the listeners of the pods in the state
// file before the agent loads, a connection arriving then completes its handshake and waits in the
// kernel queue (not a dropped SYN waiting for a retransmit), the pod proxy later adopts that very socket
// and gets the queued connection with its bytes; unadopted sockets are closed; `/proc/<pid>` paths
// (possibly reused pids) are left to the checked restore.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EarlyListeners } from '../../node-agent/enroll/early-listeners.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { eventually } from '../support/eventually.js';
import { NetnsSandbox, TCP_CLIENT, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent early listeners (needs root: network namespaces)', () => {
  const sb = new NetnsSandbox();
  let pod: PodNet;
  let client: PodNet;
  let dir: string;

  beforeAll(async () => {
    await sb.up();
    pod = await sb.pod('pod');
    client = await sb.pod('client');
    dir = await mkdtemp(join(tmpdir(), `${sb.prefix}state-`));
    const rec = (netns: string, name: string) => ({ uid: name, namespace: 'ns', name, containerId: 'c', netns, ips: [pod.ip], probeSources: [], source: 'cni' });
    await writeFile(join(dir, 'enrollments.json'), JSON.stringify({ version: 1, pods: [rec(pod.path, 'pod'), rec('/proc/1/ns/net', 'by-pid'), rec('/var/run/netns/absent', 'gone')], known: [] }));
  });
  afterAll(async () => {
    await sb.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('queues a connection before the agent accepts and hands it to the pod proxy that adopts the socket', async () => {
    const early = await EarlyListeners.open(dir);
    // Only the existing, non-/proc netns: 15001, 15006, 15008.
    expect(early.size).toBe(3);
    try {
      // Nobody accepts yet: the client still connects and sends; its answer comes once the socket is adopted.
      const pending = sb.run(client.ns, process.execPath, ['--input-type=module', '-e', TCP_CLIENT, pod.ip, '15008', 'queued']);
      // The connection waits in the listening socket's accept queue (Recv-Q of a listener in `ss`).
      await eventually(async () => Number((await sb.run(pod.ns, 'ss', ['-Hltn', 'sport = :15008'])).trim().split(/\s+/)[1]) >= 1, 10_000, 'the connection queued on 15008');
      const server = await early.factory(pod.path, new NetnsSocketFactory(pod.path)).listen('0.0.0.0', 15008, { reusePort: true });
      const got = await new Promise<string>((resolve) => server.once('connection', (s: Socket) => s.once('data', (d: Buffer) => {
        s.end(`hello ${d.toString()}`);
        resolve(d.toString());
      })));
      expect(got).toBe('queued');
      expect(await pending).toBe('hello queued');
      server.close();
      expect(early.size).toBe(2);
    } finally {
      expect(early.closeRest()).toBe(2);
    }
    expect(early.size).toBe(0);
    // Closed: nothing listens on 15001 any more.
    expect(await sb.talk(client.ns, pod.ip, 15001, 'x')).toBe('ERR ECONNREFUSED');
  });

  it('opens nothing without a state file', async () => {
    expect((await EarlyListeners.open(join(dir, 'nope'))).size).toBe(0);
  });
});
