import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import { WeftError } from '../lib/errors/index.js';
import { writeAtomic } from './atomic-file.js';
import { buildConflist, CONFLIST_FILE } from './cni-conflist.js';
import { type LabPaths, labPaths, validateLabName } from './names.js';
import { netnsPath } from './netns.js';
import { ensureMeshObjects, startControlPlane, startNodeAgent, writeAgentTokens, writeCaRoot } from './mesh.js';
import { labClient } from './kube/lab-client.js';
import { ensureProcess } from './processes.js';
import { defaultDistDir, type LabInfo, tryReadLabInfo, writeLabInfo } from './state.js';
import { ensureTopology, labNodes, type NodeInfo } from './topology.js';
import { ensureLabKube } from './kube/lab-control-plane.js';
import { waitNodesReady } from './kube/nodes-ready.js';
import { ensureLabPrometheus, type LabPrometheusInfo, PROMETHEUS_BINARY } from './prometheus/lab-prometheus.js';

/**
 * `weft lab up`: state directories, the underlay, each node's CNI conf/bin/IPAM dirs, one kubelet per
 * node and the Kubernetes control plane side by side; once the nodes are Ready, the weft parts whose
 * dist entrypoints exist (weft-control on the API server, then the node agents) and Prometheus. Each
 * step checks what is already there, so running it again changes nothing.
 */
export const DEBIAN_CNI_DIR = '/usr/lib/cni';

export interface UpOptions {
  readonly name: string;
  readonly nodes: number;
  readonly stateRoot?: string;
  readonly distDir?: string;
  readonly log: Logger;
  /** Run weft-control and the node agents (when built); false gives a plain cluster without the mesh. */
  readonly mesh?: boolean;
}

export function checkTools(): void {
  for (const [tool, path] of [
    ['iproute2', '/usr/sbin/ip'],
    ['prometheus', PROMETHEUS_BINARY],
    ['nftables', '/usr/sbin/nft'],
    ['containernetworking-plugins', `${DEBIAN_CNI_DIR}/bridge`],
    ['util-linux nsenter', '/usr/bin/nsenter'],
  ] as const) {
    if (!existsSync(path) && !(path === '/usr/sbin/ip' && existsSync('/sbin/ip'))) throw new WeftError('ERR_WEFT_LAB_TOOL_MISSING', { tool, path });
  }
}

export async function labUp(o: UpOptions): Promise<LabInfo> {
  validateLabName(o.name);
  checkTools();
  const paths = labPaths(o.name, o.stateRoot);
  const distDir = o.distDir ?? defaultDistDir();
  const existing = await tryReadLabInfo(paths);
  const nodeCount = existing?.nodes.length ?? o.nodes;
  if (existing && existing.nodes.length !== o.nodes) {
    o.log.warn({ nodes: existing.nodes.length }, 'lab exists with a different node count; keeping it (run `weft lab down` first to change it)');
  }
  const nodes = labNodes(o.name, nodeCount);
  const mesh = o.mesh ?? true;
  const control = mesh && existsSync(join(distDir, 'control/main.js'));
  // Agents need the control plane (certificates, pod labels); weft-cni is chained only with an agent.
  const agent = control && existsSync(join(distDir, 'node-agent/main.js')) && existsSync(join(distDir, 'cni/weft-cni'));
  const info: LabInfo = {
    name: o.name,
    nodes,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
    distDir,
    agent: existing ? existing.agent : agent,
    control: existing ? existing.control : control,
    // Kept while `up` runs again: `weft lab kubeconfig` keeps working meanwhile.
    ...(existing?.kube ? { kube: existing.kube } : {}),
    ...(existing?.prometheus ? { prometheus: existing.prometheus } : {}),
  };
  for (const d of [paths.procs, paths.logs, paths.runtime]) await mkdir(d, { recursive: true });
  await writeLabInfo(paths, info);
  await ensureTopology(o.name, nodes);
  // The Kubernetes control plane starts beside the nodes (its API server's bootstrap is the slowest step
  // of `up`); a failure of either side is thrown only once both have settled, so nothing is left starting.
  const kube = ensureLabKube({ lab: o.name, paths, previous: existing?.kube, nodes: nodes.map((n) => n.name), log: o.log });
  const [k, r] = await Promise.allSettled([kube, startNodes(o, paths, info)]);
  if (k.status === 'rejected') throw k.reason;
  if (r.status === 'rejected') throw r.reason;
  const withKube: LabInfo = { ...info, kube: k.value };
  await writeLabInfo(paths, withKube);
  // weft-system and weft-control need only the API server; the agents' node-bound tokens need the Nodes.
  const nodesReady = waitNodesReady({ kubeconfig: k.value.kubeconfig, nodes: nodes.map((n) => n.name), logs: paths.logs });
  let prometheus: LabPrometheusInfo | undefined;
  if (info.control) {
    // Prometheus scrapes the mesh's components: started with them, not in a lab without the mesh.
    const [n, m, p] = await Promise.allSettled([
      nodesReady,
      startMesh(paths, withKube, o.log, nodesReady),
      ensureLabPrometheus({ lab: o.name, paths, nodes, previous: existing?.prometheus, log: o.log }),
    ]);
    if (n.status === 'rejected') throw n.reason;
    if (m.status === 'rejected') throw m.reason;
    if (p.status === 'rejected') throw p.reason;
    prometheus = p.value;
  } else await nodesReady;
  const done: LabInfo = { ...withKube, ...(prometheus ? { prometheus } : {}) };
  await writeLabInfo(paths, done);
  return done;
}

/** weft-control on the API server, then (with its CA root and, once the Nodes are Ready, their tokens) the node agents. */
async function startMesh(paths: LabPaths, info: LabInfo, log: Logger, nodesReady: Promise<void>): Promise<void> {
  const client = labClient(info);
  let t0 = Date.now();
  await ensureMeshObjects(client, info);
  log.info({ component: 'weft-system', ms: Date.now() - t0 }, 'applied');
  t0 = Date.now();
  await startControlPlane(paths, info);
  await writeCaRoot(client, paths);
  log.info({ component: 'control', ms: Date.now() - t0 }, 'started');
  if (!info.agent) return;
  await nodesReady;
  await writeAgentTokens(paths, info);
  for (const node of info.nodes) await startNodeAgent(paths, info, node);
}

async function startNodes(o: UpOptions, paths: LabPaths, info: LabInfo): Promise<void> {
  const { nodes, distDir } = info;
  for (const node of nodes) await prepareNode(paths, node, info);
  // Each kubelet waits for its credentials, which ensureLabKube writes before the API server starts.
  for (const node of nodes) {
    await ensureProcess(paths, `kubelet-${node.name}`, [
      'nsenter',
      `--net=${netnsPath(node.netns)}`,
      '--',
      process.execPath,
      join(distDir, 'lab/kubelet-main.js'),
      '--lab',
      o.name,
      '--node',
      node.name,
      ...stateArgs(o),
    ]);
  }
}

function stateArgs(o: UpOptions): string[] {
  return o.stateRoot ? ['--state-root', o.stateRoot] : [];
}

async function prepareNode(paths: LabPaths, node: NodeInfo, info: LabInfo): Promise<void> {
  const np = paths.node(node.name);
  for (const d of [np.confDir, np.binDir, np.ipamDir, np.agentDir]) await mkdir(d, { recursive: true });
  // The node's CNI bin dir: Debian's plugins (symlinked) plus weft-cni when the agent is part of the lab.
  const have = new Set(await readdir(np.binDir));
  for (const plugin of await readdir(DEBIAN_CNI_DIR)) {
    if (!have.has(plugin)) await symlink(join(DEBIAN_CNI_DIR, plugin), join(np.binDir, plugin));
  }
  if (info.agent) {
    // As install-cni does on a node: the native plugin `npm run build` (build:cni) made.
    const target = join(np.binDir, 'weft-cni');
    await rm(target, { force: true });
    await symlink(join(info.distDir, 'cni/weft-cni'), target);
  }
  const conflist = buildConflist({
    nodeIndex: node.index,
    podCIDR: node.podCIDR,
    ipamDataDir: np.ipamDir,
    portmap: existsSync('/usr/sbin/iptables') || existsSync('/sbin/iptables'),
    ...(info.agent ? { weftCniSocket: np.cniSocket, weftCniLogFile: join(paths.logs, `weft-cni-${node.name}.log`) } : {}),
  });
  await writeAtomic(join(np.confDir, CONFLIST_FILE), JSON.stringify(conflist, null, 2) + '\n');
}
