import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { WeftError } from '../../lib/errors/index.js';
import { parseHostPort } from '../../lib/host-port.js';
import { ADMIN_PORT } from '../../lib/names.js';
import { nodeNetns, podNetns } from '../../lab/names.js';
import { nativeNetns } from '../../node-agent/netns/native.js';
import type { ClusterClient, KubeObject } from '../../lib/kube/cluster-client.js';
import { Pod } from '../../lib/kube/resources.js';
import type { AdminEndpoint } from './admin-client.js';

/**
 * Which component's admin endpoint a command reads, and how to reach it. The admin port listens on the
 * component's loopback (ARCHITECTURE.md), so:
 * - `--admin <host:port>`: an address the CLI can reach as is (a `kubectl port-forward`, or the node itself);
 * - in a lab: the CLI (root, on the lab's machine) opens its socket inside the node's network namespace
 *   (node agent) or the waypoint pod's (waypoint) with the agent's addon, as the agent itself does;
 * - in Kubernetes: refused with the `kubectl port-forward` to run first (ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED).
 */
export type AdminComponent = { readonly kind: 'agent'; readonly node: string } | { readonly kind: 'waypoint'; readonly namespace: string; readonly name: string };

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const NODE_AGENT_SELECTOR = 'app.kubernetes.io/name=weft-node-agent';

export function componentLabel(c: AdminComponent): string {
  return c.kind === 'agent' ? `node agent ${c.node}` : `waypoint ${c.namespace}/${c.name}`;
}

/** The admin endpoint at an address the CLI reaches directly. */
export function directEndpoint(c: AdminComponent, address: string): AdminEndpoint {
  return addressEndpoint(componentLabel(c), address);
}

/** The admin endpoint at `address` (host:port of `--admin`), called `label` in messages. */
export function addressEndpoint(label: string, address: string): AdminEndpoint {
  const { host, port } = parseHostPort(address, '--admin');
  return { label, address, host, port, socket: () => new Socket() };
}

/**
 * The admin endpoint of `c` in the cluster `client` talks to. `meshNamespace`: where the node agents run
 * (Kubernetes only).
 */
export async function findEndpoint(client: ClusterClient, c: AdminComponent, meshNamespace: string): Promise<AdminEndpoint> {
  const label = componentLabel(c);
  if (client.target.kind === 'lab') {
    const lab = client.target.name;
    let netns: string;
    if (c.kind === 'agent') netns = nodeNetns(lab, c.node);
    else {
      const pod = await waypointPod(client, c);
      netns = podNetns(lab, c.namespace, pod.metadata.name);
    }
    return netnsEndpoint(label, netns, c.kind === 'agent' ? `node ${c.node} of lab ${lab}` : `the network namespace of ${label} (${netns})`);
  }
  const pod = c.kind === 'agent' ? await agentPod(client, c.node, meshNamespace) : await waypointPod(client, c);
  throw new WeftError('ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED', { target: label, namespace: pod.metadata.namespace ?? meshNamespace, pod: pod.metadata.name });
}

/** The admin endpoint on the loopback of the lab network namespace `netns` (`missing`: what to call it when absent). */
export function netnsEndpoint(label: string, netns: string, missing: string): AdminEndpoint {
  const path = `/var/run/netns/${netns}`;
  if (!existsSync(path)) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: missing });
  return { label, address: `127.0.0.1:${ADMIN_PORT} in netns ${netns}`, host: '127.0.0.1', port: ADMIN_PORT, socket: () => socketInNetns(path, label) };
}

/** A socket whose connections start in the network namespace at `path` (root only; a refusal names `label`). */
export function socketInNetns(path: string, label: string): Socket {
  let fd: number;
  try {
    fd = nativeNetns().connectSocketInNetns(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EACCES') {
      throw new WeftError('ERR_WEFT_CLI_PERMISSION_DENIED', { what: `entering the network namespace of ${label}`, path, uid: process.getuid?.() ?? -1 }, { cause: err });
    }
    throw err;
  }
  return new Socket({ fd });
}

export async function agentPod(client: ClusterClient, node: string, namespace: string): Promise<KubeObject> {
  const pods = await client.list(Pod, { namespace, labelSelector: NODE_AGENT_SELECTOR });
  const pod = pods.find((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node);
  if (!pod) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `node agent pod on node ${node} (namespace ${namespace})` });
  return pod;
}

/** A running replica of the waypoint (the first Ready one, else the first). */
async function waypointPod(client: ClusterClient, c: Extract<AdminComponent, { kind: 'waypoint' }>): Promise<KubeObject> {
  const pods = await client.list(Pod, { namespace: c.namespace, labelSelector: `${GATEWAY_NAME_LABEL}=${c.name}` });
  const ready = pods.find((p) => ((p.status?.conditions ?? []) as { type: string; status: string }[]).some((x) => x.type === 'Ready' && x.status === 'True'));
  const pod = ready ?? pods[0];
  if (!pod) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `pod of waypoint ${c.namespace}/${c.name}` });
  return pod;
}
