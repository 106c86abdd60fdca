import { run } from './command.js';
import { ensureNetns, inNetns, sysctl } from './netns.js';
import {
  nodeName,
  nodeNetns,
  nodeUnderlayIp,
  podCidr,
  ROOT_UNDERLAY_IP,
  rootNetns,
  UNDERLAY_PREFIX_LEN,
} from './names.js';

/**
 * The lab's underlay: a root namespace holding a bridge (`br0`, 172.30.0.254/24), one veth per node into
 * the node's namespace (`eth0`, 172.30.0.<i>/24), and routes for every node's pod CIDR via that node.
 * Nothing is created in the host's namespace: each link is created inside a lab namespace, so no lab
 * address can ever reach a real network. Every step is idempotent, so `up` run twice changes nothing.
 */
export const UNDERLAY_BRIDGE = 'br0';

export interface NodeInfo {
  readonly name: string;
  readonly index: number;
  readonly netns: string;
  readonly ip: string;
  readonly podCIDR: string;
}

export function labNodes(lab: string, count: number): NodeInfo[] {
  const nodes: NodeInfo[] = [];
  for (let i = 1; i <= count; i++) {
    const name = nodeName(i);
    nodes.push({ name, index: i, netns: nodeNetns(lab, name), ip: nodeUnderlayIp(i), podCIDR: podCidr(i) });
  }
  return nodes;
}

async function linkExists(ns: string, link: string): Promise<boolean> {
  const r = await run(['ip', '-n', ns, 'link', 'show', link], { allowFailure: true });
  return r.code === 0;
}

export async function ensureTopology(lab: string, nodes: readonly NodeInfo[]): Promise<void> {
  const root = rootNetns(lab);
  await ensureNetns(root);
  if (!(await linkExists(root, UNDERLAY_BRIDGE))) {
    await run(['ip', '-n', root, 'link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge']);
  }
  await run(['ip', '-n', root, 'addr', 'replace', `${ROOT_UNDERLAY_IP}/${UNDERLAY_PREFIX_LEN}`, 'dev', UNDERLAY_BRIDGE]);
  await run(['ip', '-n', root, 'link', 'set', UNDERLAY_BRIDGE, 'up']);
  await sysctl(root, 'net.ipv4.ip_forward', '1');

  for (const node of nodes) {
    await ensureNetns(node.netns);
    const hostSide = node.name; // inside the lab's root namespace, so a short name cannot clash
    if (!(await linkExists(root, hostSide))) {
      await run(['ip', '-n', root, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns]);
    }
    await run(['ip', '-n', root, 'link', 'set', hostSide, 'master', UNDERLAY_BRIDGE, 'up']);
    await run(['ip', '-n', node.netns, 'addr', 'replace', `${node.ip}/${UNDERLAY_PREFIX_LEN}`, 'dev', 'eth0']);
    await run(['ip', '-n', node.netns, 'link', 'set', 'eth0', 'up']);
    await sysctl(node.netns, 'net.ipv4.ip_forward', '1');
    // Default route to the root namespace so that a node reaches the control plane and VIP-less peers.
    await run(['ip', '-n', node.netns, 'route', 'replace', 'default', 'via', ROOT_UNDERLAY_IP]);
  }
  for (const node of nodes) {
    await run(['ip', '-n', root, 'route', 'replace', node.podCIDR, 'via', node.ip]);
    for (const peer of nodes) {
      if (peer.index === node.index) continue;
      await run(['ip', '-n', node.netns, 'route', 'replace', peer.podCIDR, 'via', peer.ip]);
    }
  }
  // Conntrack in the node namespaces sees bridged pod-to-pod replies (so DNAT to a same-node endpoint
  // is reversed); the per-namespace value defaults to 1 where br_netfilter is loaded, set it explicitly.
  for (const node of nodes) {
    await run(inNetns(node.netns, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']), { allowFailure: true });
  }
}
