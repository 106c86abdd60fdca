import { join } from 'node:path';
import { WeftError } from '../lib/errors/index.js';
import type { NodePaths } from './names.js';
import { NETNS_DIR } from './netns.js';

/**
 * Where a pod's hostPath volume points on a lab node. A lab node is a network namespace, not a machine:
 * its "host" directories are the node's own directories under the lab's state, so that a DaemonSet that
 * installs into /etc/cni/net.d changes that node's conflist and never the real machine's. Only the paths
 * the chart's DaemonSet mounts are mapped; any other hostPath is refused (the kubelet reports the pod's
 * container as CreateContainerConfigError with this error's message), because mapping it to the real
 * machine's directory would let a pod write where the lab must not.
 *
 * - /etc/cni/net.d, /opt/cni/bin: the node's CNI conf and bin dirs (the conflist the node's pods are
 *   wired with, lab/cni-conflist.ts).
 * - /var/run/weft (/run/weft): a per-node directory (the chart's `nodeAgent.runDir`).
 * - /var/run/netns (/run/netns): where the lab's pod network namespaces are, shared by all lab nodes
 *   (the kernel's mount point of `ip netns`): a node's pods' namespaces are there as on a real node.
 * - /proc, read-only: lab nodes share the machine's pid namespace, so the node's /proc is the machine's.
 */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

export interface HostPathVolume {
  readonly path: string;
  readonly type?: HostPathType;
}

export interface MappedHostPath {
  /** The directory on this machine that stands for the node's path. */
  readonly dir: string;
  /** Whether the kubelet may create it (DirectoryOrCreate of a per-node directory). */
  readonly create: boolean;
}

/** The node's directory for `volume.path`; throws ERR_WEFT_LAB_HOSTPATH_UNSUPPORTED for any other path. */
export function mapHostPath(volume: HostPathVolume, readOnly: boolean, node: NodePaths, pod: string): MappedHostPath {
  const path = volume.path.replace(/\/+$/, '').replace(/^\/var\/run\//, '/run/');
  const refuse = (reason: string): never => {
    throw new WeftError('ERR_WEFT_LAB_HOSTPATH_UNSUPPORTED', { path: volume.path, pod, reason });
  };
  if (volume.type !== undefined && volume.type !== '' && volume.type !== 'DirectoryOrCreate' && volume.type !== 'Directory') {
    refuse(`type ${volume.type} is not a directory`);
  }
  const create = volume.type === 'DirectoryOrCreate';
  switch (path) {
    case '/etc/cni/net.d':
      return { dir: node.confDir, create };
    case '/opt/cni/bin':
      return { dir: node.binDir, create };
    case '/run/weft':
      return { dir: join(node.dir, 'run-weft'), create };
    case '/run/netns':
      return { dir: NETNS_DIR, create: false };
    case '/proc':
      if (!readOnly) refuse('the machine\'s /proc is mapped only read-only (readOnly: true on every volumeMount)');
      return { dir: '/proc', create: false };
    default:
      return refuse('the lab maps only /etc/cni/net.d, /opt/cni/bin, /var/run/weft, /var/run/netns and /proc (read-only) to the node\'s own directories');
  }
}
