import type { KubeObject } from '../../lib/kube/cluster-client.js';

/** A status condition (metav1.Condition shape) of an object, by type. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export function conditionOf(obj: KubeObject, type: string): Condition | undefined {
  const conditions = obj.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as Condition[]).find((c) => c.type === type);
}
