import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTokenKeyPair, mintToken, type MintClaims } from '../control/identity/tokens.js';
import { WeftError } from '../lib/errors/index.js';
import { ADMIN_PORT, CONTROL_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';
import { type LabPaths, ROOT_UNDERLAY_IP, rootNetns } from './names.js';
import { netnsPath } from './netns.js';
import type { LabInfo } from './state.js';
import type { NodeInfo } from './topology.js';
import { ensureProcess } from './processes.js';

/**
 * The weft parts of a lab, placed like their Kubernetes objects: weft-control in the root namespace
 * (directory source over the lab's cluster state, CA in files, tokens verified with the lab's key) and a
 * node agent in each node namespace, authenticated with a token the lab mints as Kubernetes would for
 * the DaemonSet pod (bound to its node).
 */
export const CONTROL_ADDRESS = `${ROOT_UNDERLAY_IP}:${CONTROL_PORT}`;
/** The in-cluster names of the control plane, resolved in every pod's hosts file to the root namespace. */
export const CONTROL_NAMES = ['weft-control', 'weft-control.weft-system', 'weft-control.weft-system.svc', 'weft-control.weft-system.svc.cluster.local'];
const CONTROL_NAMESPACE = 'weft-system';

export function meshPaths(paths: LabPaths): { caDir: string; caRoot: string; tokenKey: string; tokenPub: string } {
  return {
    caDir: join(paths.root, 'control-ca'),
    caRoot: join(paths.root, 'control-ca', 'ca.crt'),
    tokenKey: join(paths.secrets, 'token.key'),
    tokenPub: join(paths.secrets, 'token.pub'),
  };
}

async function ensureTokenKeys(paths: LabPaths): Promise<void> {
  const m = meshPaths(paths);
  if (existsSync(m.tokenKey) && existsSync(m.tokenPub)) return;
  const keys = await generateTokenKeyPair();
  await mkdir(paths.secrets, { recursive: true, mode: 0o700 });
  await writeFile(m.tokenKey, keys.privateKeyPem, { mode: 0o600 });
  await writeFile(m.tokenPub, keys.publicKeyPem);
}

/** Writes a bound service-account token (audience weft) for `claims` to `file`. */
export async function writeToken(paths: LabPaths, claims: MintClaims, file: string): Promise<void> {
  const key = await readFile(meshPaths(paths).tokenKey, 'utf8');
  await mkdir(file.slice(0, file.lastIndexOf('/')), { recursive: true });
  await writeFile(file, await mintToken(key, claims), { mode: 0o600 });
}

export async function startControlPlane(paths: LabPaths, info: LabInfo): Promise<void> {
  await ensureTokenKeys(paths);
  const m = meshPaths(paths);
  await ensureProcess(paths, 'control', [
    'nsenter',
    `--net=${netnsPath(rootNetns(info.name))}`,
    '--',
    process.execPath,
    join(info.distDir, 'control/main.js'),
    '--source',
    `dir:${paths.cluster}`,
    '--listen',
    CONTROL_ADDRESS,
    '--ca-dir',
    m.caDir,
    '--token-public-key',
    m.tokenPub,
    '--namespace',
    CONTROL_NAMESPACE,
    '--metrics-address',
    `${ROOT_UNDERLAY_IP}:${METRICS_PORT}`,
    '--health-address',
    `${ROOT_UNDERLAY_IP}:${HEALTH_PORT}`,
  ]);
  // The agents verify the control plane with its CA root: wait until the control plane wrote it.
  for (let i = 0; i < 300 && !existsSync(m.caRoot); i++) await sleep(100);
  if (!existsSync(m.caRoot)) throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `the control plane's CA (${m.caRoot})`, ms: 30_000 });
}

export async function startNodeAgent(paths: LabPaths, info: LabInfo, node: NodeInfo): Promise<void> {
  const np = paths.node(node.name);
  const tokenFile = join(np.agentDir, 'token');
  await writeToken(paths, { namespace: CONTROL_NAMESPACE, serviceAccount: 'weft-node-agent', pod: { name: `weft-node-agent-${node.name}`, uid: `${info.name}-${node.name}-agent` }, node: { name: node.name, uid: `${info.name}-${node.name}` } }, tokenFile);
  await ensureProcess(paths, `agent-${node.name}`, [
    'nsenter',
    `--net=${netnsPath(node.netns)}`,
    '--',
    process.execPath,
    join(info.distDir, 'node-agent/main.js'),
    '--node',
    node.name,
    '--cni-socket',
    np.cniSocket,
    '--state-dir',
    join(np.agentDir, 'state'),
    '--control',
    CONTROL_ADDRESS,
    '--token-file',
    tokenFile,
    '--ca-root',
    meshPaths(paths).caRoot,
    '--admin-address',
    `127.0.0.1:${ADMIN_PORT}`,
    '--metrics-address',
    `${node.ip}:${METRICS_PORT}`,
    '--health-address',
    `${node.ip}:${HEALTH_PORT}`,
  ]);
}
