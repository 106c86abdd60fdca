import { readObjects, readStatus } from './cluster-store.js';
import type { KubeObject } from './manifests.js';
import type { LabPaths } from './names.js';

/** A lab Pod of the file store and the status its kubelet last wrote (undefined before it did). */
export interface PodRecord {
  readonly obj: KubeObject;
  readonly status: Record<string, unknown> | undefined;
}

/**
 * Every Pod of the lab's file store — applied ones (manifests/), those of Deployments (pods/) and of
 * generated objects (generated/) — with its status. `weft lab status` and the Prometheus pod targets read
 * the same set.
 */
export async function readLabPods(paths: LabPaths): Promise<PodRecord[]> {
  const objects = [...(await readObjects(paths.manifests)), ...(await readObjects(paths.pods)), ...(await readObjects(paths.generated))]
    .map((s) => s.object)
    .filter((o) => o.kind === 'Pod');
  return Promise.all(objects.map(async (obj) => ({ obj, status: await readStatus(paths.status, `Pod.${obj.metadata.namespace ?? 'default'}.${obj.metadata.name}.yaml`) })));
}
