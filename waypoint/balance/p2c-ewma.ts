import { OutlierState, DEFAULT_OUTLIER, type OutlierOptions } from './outlier.js';

// Power of two choices over peak-EWMA latency (Linkerd): load = rtt × (pending + 1). A new endpoint
// starts at 30 ms so it is neither flooded nor starved; the average decays with a 10 s time constant, and
// a sample above the average replaces it at once ("peak"), so a slowing endpoint loses traffic quickly.

export interface EwmaOptions {
  readonly initialRttMs: number;
  readonly decayMs: number;
}

export const DEFAULT_EWMA: EwmaOptions = { initialRttMs: 30, decayMs: 10_000 };

export class EndpointStats {
  rttMs: number;
  pending = 0;
  private stamp: number;
  readonly outlier: OutlierState;

  constructor(
    readonly key: string,
    private readonly ewma: EwmaOptions = DEFAULT_EWMA,
    outlier: OutlierOptions = DEFAULT_OUTLIER,
    now = performance.now(),
  ) {
    this.rttMs = ewma.initialRttMs;
    this.stamp = now;
    this.outlier = new OutlierState(outlier);
  }

  load(now: number): number {
    return this.decayed(now) * (this.pending + 1);
  }

  /** The average as of `now` (decay toward 0 while no samples arrive keeps idle endpoints attractive). */
  private decayed(now: number): number {
    return this.rttMs * Math.exp(-Math.max(0, now - this.stamp) / this.ewma.decayMs);
  }

  observe(rttMs: number, now: number): void {
    const prev = this.decayed(now);
    if (rttMs > prev) this.rttMs = rttMs;
    else {
      const w = Math.exp(-Math.max(0, now - this.stamp) / this.ewma.decayMs);
      this.rttMs = prev * w + rttMs * (1 - w);
    }
    this.stamp = now;
  }
}

/**
 * Picks one of `candidates`: two distinct random ones that are not ejected, the lower load wins. When
 * every endpoint is ejected it picks among all of them (failing open beats a total outage).
 */
export function pickP2C<T extends { stats: EndpointStats }>(candidates: readonly T[], now: number, random: () => number = Math.random): T | undefined {
  const n = candidates.length;
  if (n === 0) return undefined;
  if (n === 1) return candidates[0];
  let pool: readonly T[] = candidates;
  let healthy = 0;
  for (const c of candidates) if (!c.stats.outlier.ejected(now)) healthy++;
  if (healthy > 0 && healthy < n) pool = candidates.filter((c) => !c.stats.outlier.ejected(now));
  const m = pool.length;
  if (m === 1) return pool[0];
  const i = Math.floor(random() * m);
  let j = Math.floor(random() * (m - 1));
  if (j >= i) j++;
  const a = pool[i];
  const b = pool[j];
  return a.stats.load(now) <= b.stats.load(now) ? a : b;
}
