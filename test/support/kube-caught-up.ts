import type { ClusterSource, ObjectKind } from '../../control/sources/source.js';
import type { KubeObjects } from './kube-server-objects.js';

/**
 * True once `source` holds every object of `kinds` at the resourceVersion the API server has (for an
 * object that failed validation, the raw object it reported): the real condition behind "wait until the
 * watches delivered our own writes" (a controller's status writes come back as change events that schedule
 * its next pass).
 */
export async function sourceCaughtUp(api: KubeObjects, source: Pick<ClusterSource, 'get' | 'invalidObjects'>, kinds: readonly ObjectKind[]): Promise<boolean> {
  for (const kind of kinds) {
    for (const o of await api.list(kind)) {
      const ref = { kind, namespace: o.metadata.namespace, name: o.metadata.name };
      // An object that failed validation is held as the raw object it reported.
      const invalid = source.invalidObjects?.().find((i) => i.ref.kind === kind && i.ref.namespace === ref.namespace && i.ref.name === ref.name)?.object as { metadata?: { resourceVersion?: string } } | undefined;
      const seen = source.get(ref)?.metadata ?? invalid?.metadata;
      if (seen?.resourceVersion !== o.metadata.resourceVersion) return false;
    }
  }
  return true;
}
