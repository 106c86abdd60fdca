/**
 * What the Kubernetes source keeps of an object, applied to list items and watch events before the
 * informer's cache or ours holds them, as client-go informers' transform functions do:
 * - every kind loses `metadata.managedFields` (server-side apply bookkeeping, often the largest part of a
 *   small object, read by nothing here);
 * - a Pod keeps only the fields the control plane reads (control/sources/schemas.ts PodSchema: metadata,
 *   node, service account, host network, container ports, phase, IPs and condition statuses). The API
 *   server's defaults (tolerations, resources, securityContext, volumes, env, timestamps of each
 *   condition, container statuses) make a pod several kB; Pods are the one kind a cluster has tens of
 *   thousands of. bench/control-scale --source kube measures it.
 */
type Json = Record<string, unknown>;

/** `kind`: list items carry none, so a list's caller names it; a watch event's object has its own. */
export function trimForCache<T>(obj: T, kind?: string): T {
  if (obj === null || typeof obj !== 'object') return obj;
  const o = obj as Json;
  const meta = o.metadata as Json | undefined;
  if (meta?.managedFields !== undefined) delete meta.managedFields;
  if ((kind ?? o.kind) === 'Pod') trimPod(o);
  return obj;
}

function trimPod(pod: Json): void {
  const spec = pod.spec as Json | undefined;
  if (spec !== undefined) {
    const containers = Array.isArray(spec.containers) ? (spec.containers as Json[]) : undefined;
    pod.spec = pick(spec, ['nodeName', 'serviceAccountName', 'hostNetwork']);
    if (containers !== undefined) (pod.spec as Json).containers = containers.map((c) => pick(c, ['name', 'ports']));
  }
  const status = pod.status as Json | undefined;
  if (status !== undefined) {
    const conditions = Array.isArray(status.conditions) ? (status.conditions as Json[]) : undefined;
    pod.status = pick(status, ['phase', 'podIP', 'podIPs', 'hostIP']);
    if (conditions !== undefined) (pod.status as Json).conditions = conditions.map((c) => pick(c, ['type', 'status']));
  }
}

function pick(from: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}
