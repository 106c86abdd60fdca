import type { InstantSample, PrometheusReader, RangeSeries } from './golden-metrics.js';

// TEMPORARY until branch stat lands its PrometheusClient: instant and range queries over Prometheus's HTTP API.
export function prometheusReader(url: string): PrometheusReader {
  const base = url.replace(/\/+$/, '');
  const get = async (path: string, params: Record<string, string>): Promise<{ resultType: string; result: unknown[] }> => {
    const res = await fetch(`${base}${path}?${new URLSearchParams(params).toString()}`, { signal: AbortSignal.timeout(15_000) });
    const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: unknown[] } };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${params.query}: ${body.error}`);
    return body.data;
  };
  const num = (v: string): number => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
  return {
    async query(promql, time): Promise<InstantSample[]> {
      const d = await get('/api/v1/query', { query: promql, time: time.toFixed(3) });
      return (d.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: num(r.value[1]) }));
    },
    async queryRange(promql, start, end, stepS): Promise<RangeSeries[]> {
      const d = await get('/api/v1/query_range', { query: promql, start: String(start), end: String(end), step: String(stepS) });
      return (d.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({ metric: r.metric, points: r.values.map(([t, v]) => [t, num(v)] as const) }));
    },
  };
}
