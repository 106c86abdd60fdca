import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/telemetry/log.js';
import { WeftError } from '../lib/errors/index.js';
import { writeAtomic } from './cluster-store.js';
import { buildConflist, CONFLIST_FILE } from './cni-conflist.js';
import { type LabPaths, labPaths, validateLabName } from './names.js';
import { netnsPath } from './netns.js';
import { startControlPlane, startNodeAgent } from './mesh.js';
import { ensureProcess } from './processes.js';
import { defaultDistDir, type LabInfo, tryReadLabInfo, writeLabInfo } from './state.js';
import { ensureTopology, labNodes, type NodeInfo } from './topology.js';
import { ensureLabKube } from './kube/lab-control-plane.js';
import { waitNodesReady } from './kube/nodes-ready.js';
import { ensureLabPrometheus, type LabPrometheusInfo, PROMETHEUS_BINARY } from './prometheus/lab-prometheus.js';

/**
 * `weft lab up`: state directories, the underlay, each node's CNI conf/bin/IPAM dirs, then the lab's
 * processes (controller, one kubelet per node, and the weft parts whose dist entrypoints exist). Each
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
  /**
   * Runs once the lab's own processes run, while the Kubernetes control plane may still be starting
   * (`--demo`: its pods live on the file store and need no API server); `up` resolves after both.
   */
  readonly whileKubeStarts?: (info: LabInfo) => Promise<void>;
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
  for (const d of [paths.manifests, paths.pods, paths.generated, paths.status, paths.procs, paths.logs, paths.runtime, paths.secrets]) {
    await mkdir(d, { recursive: true });
  }
  await writeLabInfo(paths, info);
  await ensureTopology(o.name, nodes);
  // The Kubernetes control plane starts beside the rest (its API server's bootstrap is the slowest step
  // of `up`); a failure of either side is thrown only once both have settled, so nothing is left starting.
  const kube = ensureLabKube({ lab: o.name, paths, previous: existing?.kube, nodes: nodes.map((n) => n.name), log: o.log });
  let prometheus: LabPrometheusInfo | undefined;
  const rest = startLabProcesses(o, paths, info)
    .then(async () => {
      // Scrapes the mesh's components: started with them, not in a lab without the mesh.
      if (info.control) prometheus = await ensureLabPrometheus({ lab: o.name, paths, nodes, previous: existing?.prometheus, log: o.log });
    })
    .then(() => o.whileKubeStarts?.(info));
  const [k, r] = await Promise.allSettled([kube, rest]);
  if (k.status === 'rejected') throw k.reason;
  if (r.status === 'rejected') throw r.reason;
  await waitNodesReady({ kubeconfig: k.value.kubeconfig, nodes: nodes.map((n) => n.name), logs: paths.logs });
  const done: LabInfo = { ...info, kube: k.value, ...(prometheus ? { prometheus } : {}) };
  await writeLabInfo(paths, done);
  return done;
}

async function startLabProcesses(o: UpOptions, paths: LabPaths, info: LabInfo): Promise<void> {
  const { nodes, distDir } = info;
  for (const node of nodes) await prepareNode(paths, node, info);
  if (info.control) await startControlPlane(paths, info);
  if (info.agent) for (const node of nodes) await startNodeAgent(paths, info, node);
  await ensureProcess(paths, 'controller', [process.execPath, join(distDir, 'lab/controller-main.js'), '--lab', o.name, ...stateArgs(o)]);
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
