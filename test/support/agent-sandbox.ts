import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import type { NetnsSandbox, PodNet } from './netns.js';
import { mintCa } from './pki.js';

export interface AgentSandbox {
  readonly a: PodNet;
  readonly b: PodNet;
  /** Holds local.yaml, the CNI socket (`sock`) and the agent's state dir. */
  readonly dir: string;
  readonly sock: string;
  /** B's app on 8080: greets with `peer=<source ip>`, then echoes. */
  readonly app: Server;
}

/**
 * For node agent process tests (--local-config): pods A and B in the sandbox, both workloads of namespace
 * `shop` on node n1 with a fresh CA, and an app in B on 8080. The caller removes `dir` and closes `app`.
 */
export async function agentSandbox(sb: NetnsSandbox, what: string): Promise<AgentSandbox> {
  await sb.up();
  const [a, b] = [await sb.pod('a'), await sb.pod('b')];
  const dir = await mkdtemp(join(tmpdir(), `${sb.prefix}${what}-`));
  const ca = await mintCa();
  const wl = (p: PodNet, name: string) => ({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: `sa-${name}`, node: 'n1', ips: [p.ip], captured: true, netns: p.path });
  await writeFile(join(dir, 'local.yaml'), stringify({ trustDomain: 'cluster.local', ca: { certPem: ca.certPem, keyPem: ca.keyPem }, workloads: [wl(a, 'a'), wl(b, 'b')] }));
  const app = await new NetnsSocketFactory(b.path, 0).listen('0.0.0.0', 8080);
  app.on('connection', (s: Socket) => {
    s.on('error', () => undefined);
    s.write(`peer=${s.remoteAddress}\n`);
    s.pipe(s);
  });
  return { a, b, dir, sock: join(dir, 'cni.sock'), app };
}
