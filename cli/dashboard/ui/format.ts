/** How the page writes numbers: a dash where Prometheus had none, never a made-up zero. */
export const DASH = '–';

export function rate(v: number | null): string {
  if (v === null) return DASH;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function percent(v: number | null): string {
  return v === null ? DASH : `${(v * 100).toFixed(v >= 0.9995 || v === 0 ? 0 : 1)}%`;
}

export function ms(v: number | null): string {
  if (v === null) return DASH;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ms`;
}

export function clock(at: number): string {
  return new Date(at).toLocaleTimeString();
}

export function workloadHref(namespace: string, name: string): string {
  return `#/workload/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}
