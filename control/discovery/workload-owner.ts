import type { ObjectMeta } from '../../lib/kube-object.js';

/**
 * The workload a pod belongs to, named as Istio's telemetry and Kiali name it: the top-level controller,
 * never the pod (pod names change with every restart, so per-pod series would grow without bound).
 * Kubernetes does not record the top of the chain on the pod, so it is derived from the controller
 * reference the way Istio does:
 * - ReplicaSet `<deployment>-<pod-template-hash>` → the Deployment;
 * - Job `<cronjob>-<scheduled time in minutes>` → the CronJob;
 * - StatefulSet, DaemonSet, Deployment (the lab's own controller owns pods directly) and any other
 *   controller → itself.
 * A pod with no owner has no workload name (its own name is then the label).
 */
export function workloadOwnerName(meta: Pick<ObjectMeta, 'name' | 'labels' | 'ownerReferences'>): string | undefined {
  const refs = meta.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  if (ref === undefined || ref.name === '') return undefined;
  if (ref.kind === 'ReplicaSet') {
    const hash = meta.labels?.['pod-template-hash'];
    if (hash && ref.name.endsWith(`-${hash}`) && ref.name.length > hash.length + 1) return ref.name.slice(0, -(hash.length + 1));
    return ref.name;
  }
  if (ref.kind === 'Job') {
    // CronJob-made Jobs are `<cronjob>-<minutes since the epoch>`: 8 or more digits for any date after 1970-03.
    const m = /^(.+)-\d{8,}$/.exec(ref.name);
    return m ? m[1] : ref.name;
  }
  return ref.name;
}
