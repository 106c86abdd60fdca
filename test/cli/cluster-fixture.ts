/**
 * Test fixtures for the CLI: what a healthy weft install looks like on a real API server
 * (test/support/kube-server.ts, whose CRDs are the real ones), and a printer that
 * records what a command prints.
 */
import { stringify } from 'yaml';
import { writeFile } from 'node:fs/promises';
import { mintCa } from '../support/pki.js';
import type { JsonObject, KubeObjects } from '../support/kube-server-objects.js';

export const MESH_NS = 'weft-system';
const T = '2026-01-01T00:00:00Z';
const ready = (status: 'True' | 'False' = 'True'): JsonObject[] => [{ type: 'Ready', status, lastTransitionTime: T }];

/** weft-control's Deployment: `replicas` wanted, `readyReplicas` ready, its container's `args`. */
export function controlDeployment(o: { replicas?: number; readyReplicas?: number; args?: string[] } = {}): JsonObject {
  const labels = { 'app.kubernetes.io/name': 'weft-control' };
  const replicas = o.replicas ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'weft-control', namespace: MESH_NS },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'control', image: 'ghcr.io/weft-mesh/weft:0.1.0', ...(o.args ? { args: o.args } : {}) }] } } },
    status: { replicas, readyReplicas: o.readyReplicas ?? replicas },
  };
}

/** A node as its kubelet reports it: Ready, Linux, the kernel given. */
export function node(name: string, o: { kernel?: string; unschedulable?: boolean } = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/os': 'linux' } },
    spec: o.unschedulable === true ? { unschedulable: true } : {},
    status: { conditions: ready(), nodeInfo: { kernelVersion: o.kernel ?? '6.1.0-13-amd64', operatingSystem: 'linux', architecture: 'amd64' } },
  };
}

/** The node agent pod of `nodeName`, Ready, with the readiness of its install-cni container. */
export function agentPod(nodeName: string, cniReady = true): JsonObject {
  const status = (name: string, r: boolean): JsonObject => ({ name, ready: r, restartCount: 0, image: 'ghcr.io/weft-mesh/weft:0.1.0', imageID: '' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `weft-node-agent-${nodeName}`, namespace: MESH_NS, labels: { 'app.kubernetes.io/name': 'weft-node-agent' } },
    spec: { nodeName, containers: [{ name: 'node-agent', image: 'ghcr.io/weft-mesh/weft:0.1.0' }, { name: 'install-cni', image: 'ghcr.io/weft-mesh/weft:0.1.0' }] },
    status: { phase: 'Running', conditions: ready(), containerStatuses: [status('node-agent', true), status('install-cni', cniReady)] },
  };
}

/** The CA Secret weft-control keeps (ca.crt, ca.key as PEM). */
export function caSecret(certPem: string, keyPem: string): JsonObject {
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-ca', namespace: MESH_NS }, type: 'weft.dev/ca', data: { 'ca.crt': b64(certPem), 'ca.key': b64(keyPem) } };
}

let installCa: ReturnType<typeof mintCa> | undefined;

export interface HealthyOptions {
  nodes?: string[];
}

/**
 * Seeds what a healthy install adds to a cluster with the CRDs: GatewayClass accepted, control ready, the
 * DaemonSet and a Ready agent with install-cni ready on every node, the CA and its trust root.
 */
export async function seedHealthyInstall(k: KubeObjects, options: HealthyOptions = {}): Promise<void> {
  const nodes = options.nodes ?? ['node-a', 'node-b'];
  const agentLabels = { 'app.kubernetes.io/name': 'weft-node-agent' };
  // One CA for every install the worker seeds: what the checks read of it does not change.
  const ca = await (installCa ??= mintCa('cluster.local'));
  await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: MESH_NS } });
  await Promise.all([
    k.put({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'weft-waypoint' },
      spec: { controllerName: 'weft.dev/waypoint-controller' },
      status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: T }] },
    }),
    k.put(controlDeployment()),
    k.put({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'weft-node-agent', namespace: MESH_NS },
      spec: { selector: { matchLabels: agentLabels }, template: { metadata: { labels: agentLabels }, spec: { containers: [{ name: 'node-agent', image: 'ghcr.io/weft-mesh/weft:0.1.0' }] } } },
    }),
    k.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'weft-control-abcde', namespace: MESH_NS, labels: { 'app.kubernetes.io/name': 'weft-control', 'app.kubernetes.io/version': '0.1.0' } },
      spec: { containers: [{ name: 'control', image: 'ghcr.io/weft-mesh/weft:0.1.0' }] },
      status: { phase: 'Running', conditions: ready() },
    }),
    ...nodes.flatMap((n) => [k.put(node(n)), k.put(agentPod(n))]),
    k.put(caSecret(ca.certPem, ca.keyPem)),
    k.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-ca-root', namespace: MESH_NS }, data: { 'root-cert.pem': ca.rootsPem.join('\n') } }),
  ]);
}

export async function writeYaml(path: string, obj: unknown): Promise<void> {
  await writeFile(path, stringify(obj));
}

export function capture(): { out: string[]; err: string[]; printer: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, printer: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}
