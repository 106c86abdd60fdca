import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { WeftError } from '../lib/errors/index.js';

/**
 * Every name and path a lab uses, derived from its name alone, so that `down` (even after a crash of
 * `up`, with no state left) finds everything by prefix. Lab names have no dashes: `weft-a-` must never be
 * a prefix of another lab's names (`weft-a-b-...` would be, were `a-b` allowed).
 */
export const LAB_STATE_ROOT = '/var/run/weft-lab';
export const DEFAULT_LAB_NAME = 'lab';
const NAME = /^[a-z0-9]{1,16}$/;
/** iproute2 accepts longer netns names, but /etc/netns/<name> and log lines stay readable at 64. */
const MAX_NETNS = 64;

export function validateLabName(name: string): string {
  if (!NAME.test(name)) throw new WeftError('ERR_WEFT_LAB_NAME_INVALID', { name });
  return name;
}

export function labPrefix(lab: string): string {
  return `weft-${lab}-`;
}

export function rootNetns(lab: string): string {
  return `${labPrefix(lab)}root`;
}

/** Node names are `n1`, `n2`, ...: short, because they appear in netns, link and process names. */
export function nodeName(index: number): string {
  return `n${index}`;
}

export function nodeIndex(node: string): number {
  const m = /^n(\d+)$/.exec(node);
  if (!m) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: `not a lab node name: ${node}` });
  return Number(m[1]);
}

export function nodeNetns(lab: string, node: string): string {
  return `${labPrefix(lab)}${node}`;
}

export function nodeUnderlayIp(index: number): string {
  return `172.30.0.${index}`;
}

/** The namespace the lab's weft-control and node agents stand for (the chart's default release namespace). */
export { CONTROL_NAMESPACE } from '../lib/names.js';
/** The pod a lab node agent stands for (its token names it; metrics label it so). */
export const agentPodName = (node: string): string => `weft-node-agent-${node}`;

export const ROOT_UNDERLAY_IP = '172.30.0.254';
export const UNDERLAY_PREFIX_LEN = 24;

export function podCidr(index: number): string {
  return `10.244.${index}.0/24`;
}

export function podGateway(index: number): string {
  return `10.244.${index}.1`;
}

/** `weft-<L>-p-<ns>-<name>`, shortened with a hash when it would pass 64 characters. */
export function podNetns(lab: string, namespace: string, pod: string): string {
  const full = `${labPrefix(lab)}p-${namespace}-${pod}`;
  if (full.length <= MAX_NETNS) return full;
  const hash = createHash('sha256').update(`${namespace}/${pod}`).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_NETNS - 11)}-${hash}`;
}

/** The directory layout under /var/run/weft-lab/<L>/ (the cluster's objects live in its API server's etcd, under kube/). */
export interface LabPaths {
  readonly root: string;
  readonly labFile: string;
  readonly procs: string;
  readonly logs: string;
  readonly runtime: string;
  node(node: string): NodePaths;
}

export interface NodePaths {
  readonly dir: string;
  readonly confDir: string;
  readonly binDir: string;
  readonly ipamDir: string;
  readonly agentDir: string;
  readonly cniSocket: string;
}

export function labPaths(lab: string, stateRoot = LAB_STATE_ROOT): LabPaths {
  const root = join(stateRoot, lab);
  return {
    root,
    labFile: join(root, 'lab.json'),
    procs: join(root, 'procs'),
    logs: join(root, 'logs'),
    runtime: join(root, 'runtime'),
    node(node: string): NodePaths {
      const dir = join(root, 'nodes', node);
      return {
        dir,
        confDir: join(dir, 'net.d'),
        binDir: join(dir, 'bin'),
        ipamDir: join(dir, 'ipam'),
        agentDir: join(dir, 'agent'),
        cniSocket: join(dir, 'agent', 'cni.sock'),
      };
    },
  };
}

/** `/etc/netns/<netns>`: `ip netns exec` bind-mounts the files in it over /etc (our pods' hosts file). */
export function etcNetnsDir(netns: string): string {
  return join('/etc/netns', netns);
}
