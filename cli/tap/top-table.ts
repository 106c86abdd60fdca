import type { RequestTapEvent } from '../../lib/tap/index.js';

/**
 * `weft top`: the requests of the tap stream grouped by source, destination Service, method and path,
 * hottest first. Success is Istio's: the response is not a 5xx, and a gRPC answer's status is OK.
 * Latency percentiles come from the last MAX_SAMPLES requests of a row, so memory stays bounded.
 */
export interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  readonly count: number;
  /** 0..1 */
  readonly successRate: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
}

export const TOP_HEADERS = ['SOURCE', 'DESTINATION', 'METHOD', 'PATH', 'COUNT', 'SUCCESS', 'P50', 'P95', 'MAX'] as const;

const MAX_SAMPLES = 1000;

interface Cell {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  ok: number;
  max: number;
  readonly samples: number[];
  next: number;
}

export function succeeded(e: RequestTapEvent): boolean {
  return e.status > 0 && e.status < 500 && (e.grpcStatus === undefined || e.grpcStatus === '0');
}

export class TopTable {
  private readonly cells = new Map<string, Cell>();

  add(e: RequestTapEvent): void {
    const source = `${e.source.namespace}/${e.source.workload}`;
    const destination = e.destination.service;
    const key = `${source}\u0000${destination}\u0000${e.method}\u0000${e.path}`;
    let c = this.cells.get(key);
    if (c === undefined) this.cells.set(key, (c = { source, destination, method: e.method, path: e.path, count: 0, ok: 0, max: 0, samples: [], next: 0 }));
    c.count++;
    if (succeeded(e)) c.ok++;
    c.max = Math.max(c.max, e.latencyMs);
    if (c.samples.length < MAX_SAMPLES) c.samples.push(e.latencyMs);
    else c.samples[c.next++ % MAX_SAMPLES] = e.latencyMs;
  }

  /** The `limit` hottest rows, by count. */
  rows(limit: number): TopRow[] {
    return [...this.cells.values()]
      .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path))
      .slice(0, limit)
      .map((c) => {
        const sorted = [...c.samples].sort((a, b) => a - b);
        return {
          source: c.source,
          destination: c.destination,
          method: c.method,
          path: c.path,
          count: c.count,
          successRate: c.count === 0 ? 0 : c.ok / c.count,
          latencyMs: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: c.max },
        };
      });
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

export function topCells(r: TopRow): string[] {
  const ms = (v: number): string => `${v.toFixed(1)}ms`;
  return [r.source, r.destination, r.method, r.path, String(r.count), `${(r.successRate * 100).toFixed(1)}%`, ms(r.latencyMs.p50), ms(r.latencyMs.p95), ms(r.latencyMs.max)];
}
