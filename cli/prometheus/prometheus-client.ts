import { WeftError } from '../../lib/errors/index.js';

/**
 * Queries against Prometheus's HTTP API: instant ones (`GET <base>/api/v1/query`), all `weft stat` and
 * `weft edges` use, and range ones (`/api/v1/query_range`) for `weft dashboard`'s sparklines. Every
 * query of one refresh is evaluated at the same `time`, so that the numbers of a table are of one instant. What Prometheus refuses, and an answer that is not its API's, is raised as
 * ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED; no answer at all as ERR_WEFT_CLI_PROMETHEUS_UNREACHABLE.
 */

/** One element of an instant vector: its labels and its value (NaN and ±Inf as JavaScript numbers). */
export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

const TIMEOUT_MS = 15_000;

export class PrometheusClient {
  /** `url` without a trailing slash: a path prefix (Prometheus behind a proxy) is kept. */
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  /** The instant vector `promql` evaluates to at `time` (seconds since the epoch). */
  async query(promql: string, time: number): Promise<VectorSample[]> {
    const { status, text } = await this.get('/api/v1/query', { query: promql, time: time.toFixed(3) });
    return parseVectorAnswer(this.url, promql, status, text);
  }

  /** The series `promql` evaluates to from `start` to `end` (seconds since the epoch) every `stepS` seconds (`GET /api/v1/query_range`). */
  async queryRange(promql: string, start: number, end: number, stepS: number): Promise<RangeSeries[]> {
    const { status, text } = await this.get('/api/v1/query_range', { query: promql, start: start.toFixed(3), end: end.toFixed(3), step: String(stepS) });
    return parseMatrixAnswer(this.url, promql, status, text);
  }

  private async get(path: string, params: Readonly<Record<string, string>>): Promise<{ status: number; text: string }> {
    try {
      const res = await fetch(`${this.url}${path}?${new URLSearchParams(params).toString()}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      throw new WeftError('ERR_WEFT_CLI_PROMETHEUS_UNREACHABLE', { url: this.url, reason: fetchFailure(err) }, { cause: err });
    }
  }
}

/** One series of a range query: its labels and its [seconds since the epoch, value] points. */
export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

/** Why fetch failed, in the words of the system call under it (`connect ECONNREFUSED 127.0.0.1:9090`). */
function fetchFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

interface ApiAnswer {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** The vector of a `/api/v1/query` answer (HTTP status and body as received), or the refusal it carries. */
export function parseVectorAnswer(url: string, promql: string, status: number, text: string): VectorSample[] {
  return (resultOf(url, promql, status, text, 'vector') as { metric?: Record<string, string>; value?: [number, string] }[]).map((r) => ({
    metric: r.metric ?? {},
    value: sampleValue(r.value?.[1]),
  }));
}

/** The series of a `/api/v1/query_range` answer, or the refusal it carries. */
export function parseMatrixAnswer(url: string, promql: string, status: number, text: string): RangeSeries[] {
  return (resultOf(url, promql, status, text, 'matrix') as { metric?: Record<string, string>; values?: [number, string][] }[]).map((r) => ({
    metric: r.metric ?? {},
    points: (r.values ?? []).map(([t, v]) => [t, sampleValue(v)] as const),
  }));
}

/** The `data.result` of an answer of the expected type; else ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED with why. */
function resultOf(url: string, promql: string, status: number, text: string, type: 'vector' | 'matrix'): unknown[] {
  const failed = (reason: string): WeftError => new WeftError('ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED', { url, query: promql, reason });
  let body: ApiAnswer;
  try {
    body = JSON.parse(text) as ApiAnswer;
  } catch {
    throw failed(`HTTP ${status} with a body that is not Prometheus's JSON: ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (body.status !== 'success') {
    const why = typeof body.error === 'string' ? body.error : 'no error message';
    throw failed(`HTTP ${status} ${typeof body.errorType === 'string' ? `${body.errorType}: ` : ''}${why}`);
  }
  if (body.data?.resultType !== type || !Array.isArray(body.data.result)) {
    throw failed(`HTTP ${status}: expected a ${type}, got ${JSON.stringify(body.data?.resultType ?? 'no data')}`);
  }
  return body.data.result;
}

/** Prometheus writes sample values as strings, infinities as `+Inf` and `-Inf` (which Number() does not read). */
function sampleValue(v: string | undefined): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return v === undefined ? NaN : Number(v);
}
