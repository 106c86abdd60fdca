import { DEFAULT_PEAK_EWMA, PeakEwma, pickP2C } from '../../lib/balance/index.js';

/** Latency given to an endpoint never measured (Linkerd's default): new endpoints are neither shunned nor flooded. */
export const DEFAULT_RTT_MS = DEFAULT_PEAK_EWMA.initialRttMs;
/** Endpoint stats kept at most; beyond this the least recently used is forgotten. */
const MAX_ENDPOINTS = 10_000;

/**
 * The node agent's balancer over Service endpoints, keyed by `ip:port` (the agent holds no per-endpoint
 * objects): P2C over peak-EWMA connect latency (lib/balance). The agent has no outlier ejection, so a
 * failed connect counts as a very slow sample and P2C moves away from a dead endpoint.
 */
export class PeakEwmaBalancer {
  private readonly stats = new Map<string, PeakEwma>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {}

  pick<T>(candidates: readonly T[], keyOf: (c: T) => string, random: () => number = this.random): T | undefined {
    return pickP2C(candidates, (c, now) => this.loadAt(keyOf(c), now), this.now(), random);
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
      const now = this.now();
      s.observe(ok ? now - t0 : Math.max(s.rttMs * 4, 1000), now);
    };
  }

  load(key: string): number {
    return this.loadAt(key, this.now());
  }

  /** Forgets endpoints that are gone (called when the Service's endpoints change). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.stats.keys()) if (!keys.has(k)) this.stats.delete(k);
  }

  private loadAt(key: string, now: number): number {
    return this.stats.get(key)?.load(now) ?? DEFAULT_RTT_MS;
  }

  private stat(key: string): PeakEwma {
    let s = this.stats.get(key);
    if (s) {
      // Map order is insertion order: re-insert to keep the LRU at the front.
      this.stats.delete(key);
    } else {
      s = new PeakEwma(this.now());
      if (this.stats.size >= MAX_ENDPOINTS) this.stats.delete(this.stats.keys().next().value!);
    }
    this.stats.set(key, s);
    return s;
  }
}
