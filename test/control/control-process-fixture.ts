// weft-control as its process runs it (startControl), in directory mode on a temp cluster dir: token keys,
// the given manifests, and a node-agent token for pod weft-system/agent-n1 on node n1 (`agent.token`).
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loopbackDirectoryConfig, type ControlConfig } from '../../control/config.js';
import { startControl, type ControlProcess } from '../../control/main.js';
import { generateTokenKeyPair, mintToken } from '../../control/identity/tokens.js';
import { objectFileName } from '../../lib/object-file-name.js';
import { silentLogger } from '../../lib/telemetry/log.js';

export interface DirControl {
  /** The temp directory: cluster/, ca/ (--ca-dir), token.pub, agent.token. */
  readonly root: string;
  readonly proc: ControlProcess;
  readonly caDir: string;
  readonly agentToken: string;
  /** Writes one manifest into the cluster directory. */
  put(obj: Record<string, unknown>): Promise<void>;
}

export async function startDirControl(prefix: string, objects: readonly Record<string, unknown>[], config: Partial<ControlConfig> = {}): Promise<DirControl> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const manifests = path.join(root, 'cluster', 'manifests');
  await mkdir(manifests, { recursive: true });
  const put = async (obj: Record<string, unknown>): Promise<void> => {
    const meta = obj.metadata as { name: string; namespace?: string };
    await writeFile(path.join(manifests, objectFileName(String(obj.kind), meta.namespace, meta.name)), stringify(obj));
  };
  const keys = await generateTokenKeyPair();
  await writeFile(path.join(root, 'token.pub'), keys.publicKeyPem);
  for (const o of objects) await put(o);
  const agentToken = path.join(root, 'agent.token');
  await writeFile(agentToken, await mintToken(keys.privateKeyPem, { namespace: 'weft-system', serviceAccount: 'weft-node-agent', pod: { name: 'agent-n1', uid: 'a1' }, node: { name: 'n1' } }));
  const caDir = path.join(root, 'ca');
  const proc = await startControl(loopbackDirectoryConfig(root, config), silentLogger);
  return { root, proc, caDir, agentToken, put };
}
