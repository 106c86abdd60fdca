// Pins what makes a drain lose no queued connection: two agents' listeners share a pod port through
// SO_REUSEPORT, and when one closes, the connections waiting in its accept queue (handshake done, not
// yet accepted) move to the other listener instead of being reset — because the agent turned on
// net.ipv4.tcp_migrate_req in the pod's netns (enableListenerMigration). The sysctl is the pod netns'
// own: the sandbox's node namespace keeps its value.
import { closeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nativeNetns } from '../../node-agent/netns/native.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { eventually } from '../support/eventually.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const PORT = 15001;
const CLIENTS = 24;

describeRoot('node-agent listener migration between SO_REUSEPORT listeners (needs root: network namespaces)', () => {
  const sb = new NetnsSandbox();
  let pod: PodNet;
  const servers: Server[] = [];
  const clients: Socket[] = [];

  beforeAll(async () => {
    await sb.up();
    pod = await sb.pod('pod');
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) s.close();
    await sb.destroy();
  });

  it('moves the closing listener’s queued connections to the other listener of the group', async () => {
    const sysctl = () => sb.run(pod.ns, 'sysctl', ['-n', 'net.ipv4.tcp_migrate_req']);
    const nodeBefore = await sb.run(sb.nodeNs, 'sysctl', ['-n', 'net.ipv4.tcp_migrate_req']);
    nativeNetns().enableListenerMigration(pod.path);
    expect((await sysctl()).trim()).toBe('1');
    expect(await sb.run(sb.nodeNs, 'sysctl', ['-n', 'net.ipv4.tcp_migrate_req'])).toBe(nodeBefore);

    // The draining agent's listener and its successor's; nobody accepts yet, so connections queue.
    const old = nativeNetns().listenInNetns(pod.path, '0.0.0.0', PORT, { reusePort: true });
    const successor = nativeNetns().listenInNetns(pod.path, '0.0.0.0', PORT, { reusePort: true });
    const factory = new NetnsSocketFactory(pod.path, 0);
    const resets: string[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => {
        const c = factory.connect(pod.ip, PORT);
        clients.push(c);
        c.on('error', (err: NodeJS.ErrnoException) => resets.push(`${i}: ${err.code ?? err.message}`));
        return new Promise<void>((resolve, reject) => {
          c.once('connect', () => resolve());
          c.once('error', reject);
        });
      }),
    );
    // The old agent closes its listener (drain); then the successor accepts.
    closeSync(old);
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen({ fd: successor }, resolve));
    await eventually(() => accepted.length + resets.length >= CLIENTS, 20_000, 'every queued connection accepted or reset');
    expect(resets).toEqual([]);
    expect(accepted.length).toBe(CLIENTS);
    for (const s of accepted) s.destroy();
  });
});
