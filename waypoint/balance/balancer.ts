import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { UpstreamEndpoint } from '../transport/connector.js';
import { pickP2C, type EndpointStats } from './p2c-ewma.js';
import type { DestinationLabels } from '../metrics.js';

// The balance layer of the request path: picks the endpoint for each try (P2C over peak-EWMA, skipping
// ejected endpoints) and feeds each try's outcome back into that endpoint's latency estimate and failure
// accrual (outlier.ts). Time and randomness come from the waypoint's Clock and random source.

export interface EndpointEntry {
  /** `address:port`. */
  readonly key: string;
  readonly endpoint: UpstreamEndpoint;
  readonly stats: EndpointStats;
  /** The endpoint's destination_* metric labels, built with the entry (once per state change). */
  readonly labels: DestinationLabels;
}

/** Counts ejections (weft_waypoint_outlier_ejections_total). */
export interface EjectionCounter {
  ejection(backend: string): void;
}

export class Balancer {
  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly metrics: EjectionCounter,
    private readonly log: Logger,
  ) {}

  /** One endpoint of a non-empty list, counted as in flight until done(). */
  pick(endpoints: readonly EndpointEntry[]): EndpointEntry {
    const entry = pickP2C(endpoints, this.clock.now(), this.random)!;
    entry.stats.pending++;
    return entry;
  }

  /** The try on `entry` is over (its response body ended, or it failed). */
  done(entry: EndpointEntry): void {
    entry.stats.pending--;
  }

  /** A response that completed: its latency since `startedAt` feeds the peak-EWMA estimate. */
  observe(entry: EndpointEntry, startedAt: number): void {
    const now = this.clock.now();
    entry.stats.observe(now - startedAt, now);
  }

  succeeded(entry: EndpointEntry): void {
    entry.stats.outlier.success();
  }

  /** A failed try (no response, a 5xx or a gRPC UNAVAILABLE/INTERNAL): may eject the endpoint. */
  failed(entry: EndpointEntry, backend: string): void {
    if (entry.stats.outlier.failure(this.clock.now())) {
      this.metrics.ejection(backend);
      this.log.warn({ endpoint: entry.key, backend, ejections: entry.stats.outlier.ejectionCount }, 'endpoint ejected after consecutive failures');
    }
  }
}
