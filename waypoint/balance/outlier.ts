// Circuit breaking by failure accrual (Linkerd's consecutive-failures policy): an endpoint whose last N
// requests all failed is ejected for a backoff that doubles per ejection from 1 s up to 60 s; after the
// ejection it is tried again, and one success resets it.

export interface OutlierOptions {
  readonly consecutiveFailures: number;
  readonly minEjectMs: number;
  readonly maxEjectMs: number;
}

export const DEFAULT_OUTLIER: OutlierOptions = { consecutiveFailures: 7, minEjectMs: 1_000, maxEjectMs: 60_000 };

export class OutlierState {
  private failures = 0;
  private ejections = 0;
  /** performance.now() until which the endpoint is ejected; 0 when not ejected. */
  ejectedUntil = 0;

  constructor(private readonly options: OutlierOptions = DEFAULT_OUTLIER) {}

  ejected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** Ejections so far in the current failing streak (0 after a success). */
  get ejectionCount(): number {
    return this.ejections;
  }

  success(): void {
    this.failures = 0;
    this.ejections = 0;
  }

  /** Records a failure; true when it ejects the endpoint. */
  failure(now: number): boolean {
    this.failures++;
    if (this.failures < this.options.consecutiveFailures) return false;
    const ms = Math.min(this.options.maxEjectMs, this.options.minEjectMs * 2 ** this.ejections);
    this.ejections++;
    // After an ejection the endpoint gets one probe: a single further failure ejects it again (longer).
    this.failures = this.options.consecutiveFailures - 1;
    this.ejectedUntil = now + ms;
    return true;
  }
}
