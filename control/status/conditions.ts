import type { Condition } from '../sources/schemas.js';

/** The controllerName weft writes into route parent statuses and answers for in GatewayClasses. */
export const WEFT_CONTROLLER_NAME = 'weft.dev/waypoint-controller';

/**
 * Builds a metav1.Condition. `lastTransitionTime` is carried over from `previous` when the status did not
 * change (Kubernetes API conventions), which also keeps repeated status writes byte-identical, so an
 * unchanged status is never rewritten.
 */
export function condition(
  type: string,
  status: boolean,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
  previous: readonly Condition[] | undefined,
  now: Date = new Date(),
): Condition {
  const value = status ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === value && before.lastTransitionTime !== undefined
    ? before.lastTransitionTime
    : now.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    type,
    status: value,
    reason,
    message,
    lastTransitionTime,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
  };
}

/** Deep equality of two JSON values, insensitive to key order (status written vs status read back). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
