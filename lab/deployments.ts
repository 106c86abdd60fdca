import { createHash, randomInt } from 'node:crypto';
import type { KubeObject, PodSpec } from './manifests.js';

/**
 * The Deployment controller's pure part: which Pods a Deployment wants. Pods carry the template hash as
 * the `pod-template-hash` label (as ReplicaSets do); a changed template replaces every Pod (Recreate).
 */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'; // Kubernetes' alphabet for generated suffixes

export function randomSuffix(n = 5, rand: (max: number) => number = randomInt): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[rand(NAME_CHARS.length)];
  return s;
}

export function templateHash(deploy: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(deploy.spec?.template ?? {})).digest('hex').slice(0, 10);
}

export function ownedBy(pod: KubeObject, deploy: KubeObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'Deployment' && r.uid === deploy.metadata.uid);
}

export function newPodFor(deploy: KubeObject, name: string, uid: string, now: Date): KubeObject {
  const tpl = (deploy.spec?.template ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: deploy.metadata.namespace ?? 'default',
      uid,
      creationTimestamp: now.toISOString(),
      labels: { ...(tpl.metadata?.labels ?? {}), 'pod-template-hash': templateHash(deploy) },
      ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name, uid: deploy.metadata.uid ?? '', controller: true }],
    },
    spec: structuredClone(tpl.spec),
  };
}

export interface DeploymentPlan {
  /** Names of new Pods to create (the caller builds them with `newPodFor`). */
  readonly create: number;
  /** Pods to delete: stale template first, then surplus (newest first, as a ReplicaSet scales down). */
  readonly remove: readonly KubeObject[];
}

export function planDeployment(deploy: KubeObject, pods: readonly KubeObject[]): DeploymentPlan {
  const want = typeof deploy.spec?.replicas === 'number' ? deploy.spec.replicas : 1;
  const hash = templateHash(deploy);
  const owned = pods.filter((p) => ownedBy(p, deploy));
  const stale = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
  const current = owned
    .filter((p) => p.metadata.labels?.['pod-template-hash'] === hash)
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  const surplus = current.length > want ? current.slice(want).reverse() : [];
  return { create: Math.max(0, want - current.length), remove: [...stale, ...surplus] };
}

/** Pods whose owning Deployment no longer exists (garbage collection). */
export function orphans(pods: readonly KubeObject[], deployments: readonly KubeObject[]): KubeObject[] {
  const uids = new Set(deployments.map((d) => d.metadata.uid));
  return pods.filter((p) => {
    const ref = (p.metadata.ownerReferences ?? []).find((r) => r.kind === 'Deployment');
    return ref !== undefined && !uids.has(ref.uid);
  });
}

/** Round robin over the nodes: the n-th Pod scheduled without `spec.nodeName` goes to node n mod N. */
export function roundRobin(nodes: readonly string[], counter: number): string {
  return nodes[counter % nodes.length];
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false; // a Service without selector has no endpoints here
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}
