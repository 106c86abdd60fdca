/**
 * How the traffic tables write numbers: a share as a percentage, rates and latencies with the digits that
 * matter at their size, counts as whole numbers (Prometheus extrapolates `increase` to the window's edges,
 * so a count over a window is rounded). No data is `-`, never 0: 0 is a measurement.
 */
const NONE = '-';

export function percentCell(share: number | null): string {
  return share === null ? NONE : `${(share * 100).toFixed(2)}%`;
}

/** 0.0123 → 0.012, 1.666 → 1.67, 12.34 → 12.3, 1234.5 → 1235. */
export function rateCell(perSecond: number | null): string {
  if (perSecond === null) return NONE;
  if (perSecond === 0) return '0';
  if (perSecond < 0.1) return perSecond.toPrecision(2);
  return perSecond.toFixed(perSecond < 10 ? 2 : perSecond < 100 ? 1 : 0);
}

/** 0.73 → 0.73ms, 12.4 → 12ms, 2500 → 2.50s. */
export function millisCell(ms: number | null): string {
  if (ms === null) return NONE;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  return ms < 10 ? `${Number(ms.toFixed(2))}ms` : `${Math.round(ms)}ms`;
}

export function countCell(n: number | null): string {
  return n === null ? NONE : String(Math.round(n));
}
