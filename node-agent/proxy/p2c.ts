/** Latency given to an endpoint never measured (Linkerd's default): new endpoints are neither shunned nor flooded. */
export const DEFAULT_RTT_MS = 30;
/** EWMA decay time constant. */
export const DECAY_MS = 10_000;
/** Endpoint stats kept at most; beyond this the least recently used is forgotten. */
const MAX_ENDPOINTS = 10_000;

interface Stat {
  ewma: number;
  stamp: number;
  pending: number;
}

/**
 * Power-of-two-choices over peak-EWMA load (Linkerd's balancer): pick two distinct endpoints at
 * random, take the one with the lower `rtt_ewma × (pending + 1)`. Peak: a slower sample replaces the
 * average at once, a faster one only decays it, so a slow endpoint is avoided quickly and trusted again
 * slowly. Endpoints are keyed by `ip:port`.
 */
export class PeakEwmaBalancer {
  private readonly stats = new Map<string, Stat>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  pick<T>(candidates: readonly T[], keyOf: (c: T) => string, random: () => number = Math.random): T | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.floor(random() * n);
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i];
    const b = candidates[j];
    return this.load(keyOf(a)) <= this.load(keyOf(b)) ? a : b;
  }

  /** Marks a connection attempt started; call the returned function once with its outcome. */
  start(key: string): (ok: boolean) => void {
    const s = this.stat(key);
    s.pending++;
    const t0 = this.now();
    let done = false;
    return (ok: boolean) => {
      if (done) return;
      done = true;
      s.pending--;
      // A failure counts as a very slow sample, so that P2C moves away from a dead endpoint.
      this.observe(s, ok ? this.now() - t0 : Math.max(s.ewma * 4, 1000));
    };
  }

  load(key: string): number {
    const s = this.stats.get(key);
    if (!s) return DEFAULT_RTT_MS;
    return s.ewma * (s.pending + 1);
  }

  /** Forgets endpoints that are gone (called when the Service's endpoints change). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.stats.keys()) if (!keys.has(k)) this.stats.delete(k);
  }

  private stat(key: string): Stat {
    let s = this.stats.get(key);
    if (s) {
      // Map order is insertion order: re-insert to keep the LRU at the front.
      this.stats.delete(key);
    } else {
      s = { ewma: DEFAULT_RTT_MS, stamp: this.now(), pending: 0 };
      if (this.stats.size >= MAX_ENDPOINTS) this.stats.delete(this.stats.keys().next().value!);
    }
    this.stats.set(key, s);
    return s;
  }

  private observe(s: Stat, rtt: number): void {
    const t = this.now();
    if (rtt > s.ewma) {
      s.ewma = rtt;
    } else {
      const w = Math.exp(-(t - s.stamp) / DECAY_MS);
      s.ewma = s.ewma * w + rtt * (1 - w);
    }
    s.stamp = t;
  }
}
