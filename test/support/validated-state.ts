import { objectKey, validateObject } from '../../control/sources/schemas.js';
import type { KubeObject, ObjectKind, ObjectRef } from '../../control/sources/source.js';

/**
 * A read-only cluster state of validated objects (what the status functions read from a source), built
 * from raw manifests; a fixture that fails validation throws with the reason.
 */
export function validatedState(raw: unknown[]): { get(ref: ObjectRef): KubeObject | undefined; list(kind: ObjectKind): KubeObject[] } {
  const objects = new Map<string, KubeObject>();
  for (const r of raw) {
    const v = validateObject(r);
    if (!v.ok) throw new Error(`fixture invalid: ${v.reason}`);
    objects.set(`${v.object.kind}/${objectKey(v.object.metadata.namespace, v.object.metadata.name)}`, v.object);
  }
  return {
    get: (ref) => objects.get(`${ref.kind}/${objectKey(ref.namespace, ref.name)}`),
    list: (kind) => [...objects.values()].filter((o) => o.kind === kind),
  };
}
