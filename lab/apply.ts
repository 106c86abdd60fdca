import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterClient } from '../lib/kube/cluster-client.js';
import { WeftError } from '../lib/errors/index.js';
import type { KubeObject } from './manifests.js';
import { parseManifests } from './manifests.js';

/**
 * `weft lab apply/delete -f`: thin wrappers of server-side apply and delete against the lab's API server
 * (lab/kube/lab-client.ts), printing what `kubectl apply --server-side --force-conflicts` and `kubectl
 * delete` print. The API server validates, defaults and stores; the lab checks nothing of its own.
 */
export async function readInput(spec: string, stdin: () => Promise<string>): Promise<KubeObject[]> {
  if (spec === '-') return parseManifests(await stdin(), 'stdin');
  const st = await stat(spec).catch(() => undefined);
  if (!st) throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source: spec, reason: 'no such file or directory' });
  if (!st.isDirectory()) return parseManifests(await readFile(spec, 'utf8'), spec);
  const out: KubeObject[] = [];
  for (const name of (await readdir(spec)).sort()) {
    if (!/\.(ya?ml|json)$/.test(name)) continue;
    out.push(...parseManifests(await readFile(join(spec, name), 'utf8'), join(spec, name)));
  }
  return out;
}

/** kubectl's name of an object's type: `deployment.apps`, `namespace`, `gateway.gateway.networking.k8s.io`. */
export function kubectlType(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const slash = obj.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : obj.apiVersion.slice(0, slash);
  return `${obj.kind.toLowerCase()}${group === '' ? '' : `.${group}`}`;
}

/** Applies each object in order (a Namespace before what lives in it, as written); returns kubectl's lines. */
export async function applyManifests(client: ClusterClient, objects: readonly KubeObject[]): Promise<string[]> {
  const lines: string[] = [];
  for (const obj of objects) {
    await client.apply(obj);
    lines.push(`${kubectlType(obj)}/${obj.metadata.name} serverside-applied`);
  }
  return lines;
}

/** Deletes each object; an absent one is said, not an error (as `kubectl delete --ignore-not-found` would skip it). */
export async function deleteManifests(client: ClusterClient, objects: readonly KubeObject[]): Promise<string[]> {
  const lines: string[] = [];
  for (const obj of objects) {
    const type = { apiVersion: obj.apiVersion, kind: obj.kind, plural: '', namespaced: obj.metadata.namespace !== undefined || !CLUSTER_SCOPED.has(obj.kind) };
    const ns = type.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const deleted = await client.delete({ type, name: obj.metadata.name, ...(ns === undefined ? {} : { namespace: ns }) });
    // kubectl 1.37's words: `pod "web" deleted from demo namespace`, `namespace "demo" deleted`.
    lines.push(`${kubectlType(obj)} "${obj.metadata.name}" ${deleted ? 'deleted' : 'not found'}${ns === undefined ? '' : ` ${deleted ? 'from' : 'in'} ${ns} namespace`}`);
  }
  return lines;
}

/** Built-in kinds without a namespace that a manifest may name without saying so. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass',
  'PriorityClass', 'GatewayClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'APIService', 'IngressClass', 'RuntimeClass', 'CSIDriver',
]);
