import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTokenKeyPair, mintToken, type MintClaims } from '../control/identity/tokens.js';
import { WeftError } from '../lib/errors/index.js';
import { ADMIN_PORT, CONTROL_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';
import { agentPodName, CONTROL_NAMESPACE, type LabPaths, ROOT_UNDERLAY_IP, rootNetns } from './names.js';
import { netnsPath } from './netns.js';
import type { LabInfo } from './state.js';
import type { NodeInfo } from './topology.js';
import { ensureProcess, isAlive, readRecord, startProcess, stopProcess } from './processes.js';

/**
 * The weft parts of a lab, placed like their Kubernetes objects: weft-control in the root namespace
 * (directory source over the lab's cluster state, CA in files, tokens verified with the lab's key) and a
 * node agent in each node namespace, authenticated with a token the lab mints as Kubernetes would for
 * the DaemonSet pod (bound to its node).
 */
export const CONTROL_ADDRESS = `${ROOT_UNDERLAY_IP}:${CONTROL_PORT}`;
/** The in-cluster names of the control plane, resolved in every pod's hosts file to the root namespace. */
export const CONTROL_NAMES = ['weft-control', 'weft-control.weft-system', 'weft-control.weft-system.svc', 'weft-control.weft-system.svc.cluster.local'];

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
    // The lab runs repository programs by image name (lab/images.ts), not the chart's image.
    '--waypoint-image',
    'weft/waypoint',
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
  await ensureProcess(paths, `agent-${node.name}`, await nodeAgentArgv(paths, info, node));
}

export interface AgentReplacement {
  readonly oldPid: number;
  readonly newPid: number;
  /** When the new agent's process was started. */
  readonly newStartedAt: number;
  /** When the new agent logged ready (and every server of it listened). */
  readonly readyAt: number;
  /** When the old agent got SIGTERM. */
  readonly stoppedAt: number;
}

/**
 * Replaces a node's running agent as a DaemonSet rolling update with maxSurge does (docs/upgrade.md):
 * starts the new agent beside the old one (same flags, state dir and CNI socket), waits until it is
 * ready, then sends the old one SIGTERM and returns; the old agent drains on its own (its live
 * connections get its drain period) and is SIGKILLed only if still there `killAfterMs` later
 * (`drained` settles then). The lab's process record names the new agent from then on.
 */
export async function replaceNodeAgent(
  paths: LabPaths,
  info: LabInfo,
  node: NodeInfo,
  o: { readyTimeoutMs?: number; killAfterMs?: number } = {},
): Promise<AgentReplacement & { drained: Promise<void> }> {
  const id = `agent-${node.name}`;
  const old = await readRecord(paths.procs, id);
  if (!old || !isAlive(old)) throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `a running ${id} to replace`, ms: 0 });
  const newStartedAt = Date.now();
  const started = await startProcess(paths.procs, paths.logs, id, await nodeAgentArgv(paths, info, node), { detached: true });
  const newPid = started.record.pid;
  const readyTimeoutMs = o.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + readyTimeoutMs;
  let readyAt: number | undefined;
  while (readyAt === undefined) {
    readyAt = await agentReadyAt(started.record.log, newPid);
    if (readyAt !== undefined) break;
    if (!isAlive(started.record) || Date.now() > deadline) {
      throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `the new ${id} (pid ${newPid}) to become ready; see ${started.record.log}`, ms: readyTimeoutMs });
    }
    await sleep(100);
  }
  const stoppedAt = Date.now();
  const drained = stopProcess(old, o.killAfterMs ?? 60_000);
  return { oldPid: old.pid, newPid, newStartedAt, readyAt, stoppedAt, drained };
}

/** When the agent `pid` logged both "node agent ready" and "node agent started" in `log`; undefined until then. */
async function agentReadyAt(log: string, pid: number): Promise<number | undefined> {
  let ready: number | undefined;
  let started = false;
  for (const line of (await readFile(log, 'utf8').catch(() => '')).split('\n')) {
    if (!line.includes(`"pid":${pid},`)) continue;
    if (line.includes('"msg":"node agent ready"')) ready = Date.parse((JSON.parse(line) as { time: string }).time);
    if (line.includes('"msg":"node agent started"')) started = true;
  }
  return started ? ready : undefined;
}

async function nodeAgentArgv(paths: LabPaths, info: LabInfo, node: NodeInfo): Promise<string[]> {
  const np = paths.node(node.name);
  const tokenFile = join(np.agentDir, 'token');
  await writeToken(paths, { namespace: CONTROL_NAMESPACE, serviceAccount: 'weft-node-agent', pod: { name: agentPodName(node.name), uid: `${info.name}-${node.name}-agent` }, node: { name: node.name, uid: `${info.name}-${node.name}` } }, tokenFile);
  return [
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
  ];
}
