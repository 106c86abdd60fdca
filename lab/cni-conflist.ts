import { podGateway } from './names.js';

/**
 * The conflist a lab node carries in its CNI conf dir, shaped as a kubeadm node with the bridge CNI
 * would have it: Debian's `bridge` with `host-local` IPAM (its own dataDir under the lab's state), then
 * `portmap`, then — when the node agent is part of the lab — `weft-cni`, which is what install-cni
 * appends on a real node. `loopback` is not in the chain: runtimes bring up `lo` with it separately.
 */
export const CONFLIST_NAME = 'weft-lab';
export const CONFLIST_FILE = '10-weft-lab.conflist';
export const CNI_VERSION = '1.0.0';
export const POD_BRIDGE = 'cni0';

export interface PluginEntry {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly PluginEntry[];
}

export interface ConflistOptions {
  readonly nodeIndex: number;
  readonly podCIDR: string;
  readonly ipamDataDir: string;
  /** Include `portmap` (needs iptables in the node namespace). */
  readonly portmap: boolean;
  /** The node agent's enrollment socket when weft-cni is chained; undefined leaves it out. */
  readonly weftCniSocket?: string;
  readonly weftCniLogFile?: string;
}

export function buildConflist(o: ConflistOptions): Conflist {
  const plugins: PluginEntry[] = [
    {
      type: 'bridge',
      bridge: POD_BRIDGE,
      isGateway: true,
      // No masquerade: pod-to-pod traffic between nodes keeps the pod's source address, as in a cluster.
      ipMasq: false,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: o.podCIDR, gateway: podGateway(o.nodeIndex) }]],
        routes: [{ dst: '0.0.0.0/0' }],
        dataDir: o.ipamDataDir,
      },
    },
  ];
  if (o.portmap) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  if (o.weftCniSocket !== undefined) {
    plugins.push({
      type: 'weft-cni',
      cni_socket: o.weftCniSocket,
      ...(o.weftCniLogFile !== undefined ? { log_file: o.weftCniLogFile } : {}),
    });
  }
  return { cniVersion: CNI_VERSION, name: CONFLIST_NAME, plugins };
}

/** The separate loopback network every pod gets before the chain (as containerd and CRI-O do). */
export const LOOPBACK_CONF: Conflist = {
  cniVersion: CNI_VERSION,
  name: 'cni-loopback',
  plugins: [{ type: 'loopback' }],
};
