// Peak-EWMA latency estimate of one endpoint, as Linkerd's balancer keeps it (tower's `PeakEwma`):
// load = rtt × (pending + 1); a new endpoint starts at 30 ms, so it is neither flooded nor starved; a
// sample above the estimate replaces it at once ("peak"), so a slowing endpoint loses traffic quickly;
// a sample below it is blended in with weight 1 − e^(−Δt/τ), Δt the time since the last update and
// τ = 10 s; and reading the load is itself a zero-latency sample, so an endpoint nobody picks decays
// toward 0 and is tried again rather than shunned forever. Time is passed in (ms, any monotonic
// clock): the estimate reads no clock of its own.

export interface PeakEwmaOptions {
  /** Estimate of an endpoint never measured. */
  readonly initialRttMs: number;
  /** Decay time constant τ. */
  readonly decayMs: number;
}

export const DEFAULT_PEAK_EWMA: PeakEwmaOptions = Object.freeze({ initialRttMs: 30, decayMs: 10_000 });

export class PeakEwma {
  /** Requests or connections in flight to the endpoint; the caller counts them. */
  pending = 0;
  private estimate: number;
  private stamp: number;

  constructor(
    now: number,
    private readonly options: PeakEwmaOptions = DEFAULT_PEAK_EWMA,
  ) {
    this.estimate = options.initialRttMs;
    this.stamp = now;
  }

  /** The estimate as of the last update or load reading (ms). */
  get rttMs(): number {
    return this.estimate;
  }

  /** rtt × (pending + 1), with the estimate decayed to `now`. */
  load(now: number): number {
    return this.update(0, now) * (this.pending + 1);
  }

  /** Records one measured latency (ms) that ended at `now`. */
  observe(rttMs: number, now: number): void {
    this.update(rttMs, now);
  }

  private update(rttMs: number, now: number): number {
    if (rttMs > this.estimate) {
      this.estimate = rttMs;
    } else {
      const w = Math.exp(-Math.max(0, now - this.stamp) / this.options.decayMs);
      this.estimate = this.estimate * w + rttMs * (1 - w);
    }
    if (now > this.stamp) this.stamp = now;
    return this.estimate;
  }
}
