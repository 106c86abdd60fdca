// Power of two choices (Mitzenmacher; Linkerd's and Finagle's balancers): draw two distinct candidates at
// random and keep the one with the lower load. Near-best choice at O(1) cost, and unlike "least loaded"
// it does not send a burst to the one endpoint that looked best a moment ago.

/**
 * One of `candidates`: the lower `loadOf(c, now)` of two distinct random ones (the first drawn on a tie).
 * `loadOf` should be a function made once, not per call, on a per-request path.
 */
export function pickP2C<T>(candidates: readonly T[], loadOf: (c: T, now: number) => number, now: number, random: () => number): T | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  const i = Math.floor(random() * n);
  let j = Math.floor(random() * (n - 1));
  if (j >= i) j++;
  const a = candidates[i];
  const b = candidates[j];
  return loadOf(a, now) <= loadOf(b, now) ? a : b;
}
