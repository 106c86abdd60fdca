import { DEFAULT_PEAK_EWMA, PeakEwma, pickP2C as p2c, type PeakEwmaOptions } from '../../lib/balance/index.js';
import { OutlierState, DEFAULT_OUTLIER, type OutlierOptions } from './outlier.js';

// The waypoint's balancing state per endpoint: Linkerd's peak-EWMA estimate (lib/balance) plus failure
// accrual (outlier.ts); P2C picks among the endpoints that are not ejected.

export class EndpointStats extends PeakEwma {
  readonly outlier: OutlierState;

  constructor(
    readonly key: string,
    ewma: PeakEwmaOptions = DEFAULT_PEAK_EWMA,
    outlier: OutlierOptions = DEFAULT_OUTLIER,
    now = performance.now(),
  ) {
    super(now, ewma);
    this.outlier = new OutlierState(outlier);
  }
}

const loadOf = (c: { stats: EndpointStats }, now: number): number => c.stats.load(now);

/**
 * Picks one of `candidates`: two distinct random ones that are not ejected, the lower load wins. When
 * every endpoint is ejected it picks among all of them (failing open beats a total outage).
 */
export function pickP2C<T extends { stats: EndpointStats }>(candidates: readonly T[], now: number, random: () => number = Math.random): T | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  let pool: readonly T[] = candidates;
  let healthy = 0;
  for (const c of candidates) if (!c.stats.outlier.ejected(now)) healthy++;
  if (healthy > 0 && healthy < n) pool = candidates.filter((c) => !c.stats.outlier.ejected(now));
  return p2c(pool, loadOf, now, random);
}
