// Pins that a socket the agent cannot even create costs only that connection. The addon throws
// synchronously when it cannot enter the pod's netns (ENOENT: the pod's netns file was removed while its
// listeners still live) or is out of descriptors (EMFILE); thrown from NetnsSocketFactory.connect inside
// a connection handler, that was an uncaught exception that ended the agent, and every captured pod on
// the node lost the mesh. Now the connection is refused (CONNECT, with the errno in the access log) and
// the agent keeps serving the other pods.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkloadSchema } from '../../lib/model/index.js';
import { AgentMesh } from '../support/agent-mesh.js';
import type { PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

const exec = promisify(execFile);

describeRoot('node-agent: a socket factory that throws costs one connection, not the agent (needs root: network namespaces, nftables)', () => {
  const mesh = new AgentMesh();
  const { sb, store } = mesh;
  let a: PodNet, b: PodNet, c: PodNet;

  beforeAll(async () => {
    [a, b, c] = await mesh.up('a', 'b', 'c');
    const wl = (p: PodNet, name: string, captured: boolean) => WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, ips: [p.ip], captured });
    store.apply([
      { kind: 'Workload', version: '1', upserts: [wl(a, 'a', true), wl(b, 'b', true), wl(c, 'c', false)], removes: [], snapshotDone: true },
      { kind: 'Authorization', version: '1', upserts: [], removes: [], snapshotDone: true },
    ]);
    mesh.startDataplane();
    for (const [p, name] of [[a, 'a'], [b, 'b']] as const) {
      await mesh.app(p, { greet: false });
      await mesh.enroll(p, name);
    }
  });
  afterAll(async () => {
    await mesh.close();
  });

  const talk = (from: PodNet, ip: string): Promise<string> => sb.talk(from.ns, ip, 8080, 'hello', 5000);

  it('pod A\'s netns file is gone: a connection to A is refused with CONNECT, B keeps working', async () => {
    expect(await talk(c, a.ip)).toBe('hello');
    // What a runtime does when it tears a sandbox down: the bind mount goes, while the agent's sockets
    // keep the namespace itself (and A's listeners) alive.
    await exec('ip', ['netns', 'del', a.ns]);
    mesh.access.clear();
    expect(await talk(c, a.ip)).toBe('ERR ECONNRESET');
    const line = await mesh.access.waitFor((l) => l.direction === 'inbound-plain' && (l.dst as { addr: string }).addr === `${a.ip}:8080`, 'the refusal in the access log', 5000);
    expect(line.outcome).toBe('CONNECT');
    expect(line.reason).toMatch(/ENOENT/);
    expect(await talk(c, b.ip)).toBe('hello');
  });
});
