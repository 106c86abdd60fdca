import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterClient, KubeObject } from '../lib/kube/cluster-client.js';
import { ConfigMap, CustomResourceDefinition } from '../lib/kube/resources.js';
import { CA_ROOT_CONFIGMAP, CA_ROOT_KEY } from '../control/ca-root-configmap.js';
import { WeftError } from '../lib/errors/index.js';
import { ADMIN_PORT, CONTROL_PORT, HEALTH_PORT, METRICS_PORT } from '../lib/names.js';
import { readInput } from './apply.js';
import { writeAtomic } from './atomic-file.js';
import { AGENT_SERVICE_ACCOUNT, kubeRestFor, writeAgentToken } from './kube/agent-token.js';
import { labKubePaths } from './kube/lab-control-plane.js';
import { CONTROL_NAMESPACE, type LabPaths, ROOT_UNDERLAY_IP, rootNetns } from './names.js';
import { netnsPath } from './netns.js';
import type { LabInfo } from './state.js';
import type { NodeInfo } from './topology.js';
import { ensureProcess, isAlive, readRecord, startProcess, stopProcess } from './processes.js';

/**
 * The weft parts of a lab, placed like their Kubernetes objects: weft-control in the root namespace,
 * reading the lab's API server (`--source kube` with the in-lab admin kubeconfig: real TokenReview, the
 * CA in Secret weft-system/weft-ca, a Lease for leader election, status and waypoint objects written to
 * the API server), and a node agent in each node namespace, authenticated with a node-bound token of
 * ServiceAccount weft-system/weft-node-agent (kube/agent-token.ts) and verifying the control plane with
 * the root control publishes in ConfigMap weft-system/weft-ca-root.
 */
export const CONTROL_ADDRESS = `${ROOT_UNDERLAY_IP}:${CONTROL_PORT}`;
/** The in-cluster names of the control plane, resolved in every pod's hosts file to the root namespace. */
export const CONTROL_NAMES = ['weft-control', 'weft-control.weft-system', 'weft-control.weft-system.svc', 'weft-control.weft-system.svc.cluster.local'];

export function meshPaths(paths: LabPaths): { caRoot: string; agentToken: (node: string) => string } {
  return {
    caRoot: join(paths.root, 'ca-root.pem'),
    agentToken: (node) => join(paths.node(node).agentDir, 'token'),
  };
}

/** The repository checkout whose dist/ the lab runs (third_party/ and helm/ are beside it). */
function repoRoot(info: LabInfo): string {
  return dirname(info.distDir);
}

/** The manifests of a directory of the checkout, as `kubectl apply --server-side -f <dir>` reads them. */
function checkoutManifests(info: LabInfo, ...dir: string[]): Promise<KubeObject[]> {
  return readInput(join(repoRoot(info), ...dir), () => Promise.reject(new Error('no stdin here')));
}

/**
 * What weft-control and the agents need before they start, applied server-side with the admin
 * credentials: namespace weft-system, the agents' ServiceAccount, the pinned Gateway API CRDs and weft's
 * own (helm/weft/files/crds), waited for until Established.
 */
export async function ensureMeshObjects(client: ClusterClient, info: LabInfo, timeoutMs = 60_000): Promise<void> {
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONTROL_NAMESPACE } });
  await client.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: AGENT_SERVICE_ACCOUNT, namespace: CONTROL_NAMESPACE } });
  // The pinned Gateway API CRDs (and their admission policy), and weft's own as the chart keeps them.
  const objects = [...(await checkoutManifests(info, 'third_party', 'gateway-api', 'v1.7.0', 'standard')), ...(await checkoutManifests(info, 'helm', 'weft', 'files', 'crds'))];
  await Promise.all(objects.map((o) => client.apply(o)));
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
  const deadline = Date.now() + timeoutMs;
  for (const name of crds) {
    for (;;) {
      const crd = await client.get({ type: CustomResourceDefinition, name });
      const conds = (crd?.status?.conditions as { type: string; status: string }[] | undefined) ?? [];
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `CustomResourceDefinition ${name} to be Established`, ms: timeoutMs });
      await sleep(100);
    }
  }
}

export async function startControlPlane(paths: LabPaths, info: LabInfo): Promise<void> {
  await ensureProcess(
    paths,
    'control',
    [
      'nsenter',
      `--net=${netnsPath(rootNetns(info.name))}`,
      '--',
      process.execPath,
      join(info.distDir, 'control/main.js'),
      '--source',
      'kube',
      '--listen',
      CONTROL_ADDRESS,
      '--namespace',
      CONTROL_NAMESPACE,
      // The lab runs repository programs by image name (lab/images.ts), not the chart's image.
      '--waypoint-image',
      'weft/waypoint',
      '--metrics-address',
      `${ROOT_UNDERLAY_IP}:${METRICS_PORT}`,
      '--health-address',
      `${ROOT_UNDERLAY_IP}:${HEALTH_PORT}`,
    ],
    // The API server as processes in the root namespace reach it, with the admin's certificate.
    { ...process.env, KUBECONFIG: labKubePaths(paths).inLabAdminKubeconfig },
  );
}

/**
 * The agents' `--ca-root`: waits until weft-control published ConfigMap weft-system/weft-ca-root and
 * writes its roots to the file. A later root rotation reaches running agents in the trust bundle the
 * control plane pushes; the file only verifies the control plane at an agent's (re)start.
 */
export async function writeCaRoot(client: ClusterClient, paths: LabPaths, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cm = await client.get({ type: ConfigMap, name: CA_ROOT_CONFIGMAP, namespace: CONTROL_NAMESPACE });
    const pem = cm?.data?.[CA_ROOT_KEY];
    if (pem !== undefined && pem !== '') {
      await writeAtomic(meshPaths(paths).caRoot, pem);
      return;
    }
    if (Date.now() > deadline) {
      throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `ConfigMap ${CONTROL_NAMESPACE}/${CA_ROOT_CONFIGMAP} from weft-control (\`weft lab logs control\`)`, ms: timeoutMs });
    }
    await sleep(100);
  }
}

/**
 * Each node agent's first token (kubelet-main keeps it fresh from then on), asked by `up` on the host:
 * through the host's admin kubeconfig (the loopback forward), never the lab's own addresses, which the
 * host does not route into the lab.
 */
export async function writeAgentTokens(paths: LabPaths, info: LabInfo): Promise<void> {
  const kubeconfig = info.kube?.kubeconfig;
  if (kubeconfig === undefined) throw new WeftError('ERR_WEFT_LAB_KUBE_NOT_RUNNING', { lab: info.name, path: 'kube in lab.json' });
  const rest = kubeRestFor(kubeconfig);
  await Promise.all(info.nodes.map((n) => writeAgentToken(rest, n.name, meshPaths(paths).agentToken(n.name))));
}

export async function startNodeAgent(paths: LabPaths, info: LabInfo, node: NodeInfo): Promise<void> {
  await ensureProcess(paths, `agent-${node.name}`, nodeAgentArgv(paths, info, node));
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
  const started = await startProcess(paths.procs, paths.logs, id, nodeAgentArgv(paths, info, node), { detached: true });
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

function nodeAgentArgv(paths: LabPaths, info: LabInfo, node: NodeInfo): string[] {
  const np = paths.node(node.name);
  const tokenFile = meshPaths(paths).agentToken(node.name);
  if (!existsSync(tokenFile)) throw new WeftError('ERR_WEFT_LAB_TIMEOUT', { what: `the token of agent-${node.name} (${tokenFile}; \`weft lab up\` writes it)`, ms: 0 });
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
