import type { BackendRef } from '../../lib/model/index.js';

// Weighted backendRefs: each ref gets weight / sum of the requests; weight 0 never gets any. An invalid
// (unresolved) ref keeps its share, which the caller answers with 500, as the spec requires.

export interface WeightedPick {
  readonly refs: readonly BackendRef[];
  readonly total: number;
  /** Cumulative weights, same order as refs. */
  readonly cumulative: readonly number[];
}

export function prepareSplit(refs: readonly BackendRef[]): WeightedPick {
  const cumulative: number[] = [];
  let total = 0;
  for (const r of refs) {
    total += r.weight;
    cumulative.push(total);
  }
  return { refs, total, cumulative };
}

/** The ref for this request, or undefined when every weight is 0 (or there are none): the rule answers 500. */
export function pickBackend(split: WeightedPick, random: () => number = Math.random): BackendRef | undefined {
  if (split.total <= 0) return undefined;
  const x = random() * split.total;
  const c = split.cumulative;
  for (let i = 0; i < c.length; i++) if (x < c[i]) return split.refs[i];
  for (let i = split.refs.length - 1; i >= 0; i--) if (split.refs[i].weight > 0) return split.refs[i];
  return undefined;
}
