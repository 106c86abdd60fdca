import { WeftError } from '../../lib/errors/index.js';

/**
 * The small pieces of PromQL the traffic commands build their queries from. Label values come from the
 * command line, so every one is quoted here (never spliced raw into a query).
 */

/** One label matcher: `=`, `!=`, `=~` or `!~` against a value (a regex for the last two). */
export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export const eq = (label: string, value: string): Matcher => ({ label, op: '=', value });
export const re = (label: string, value: string): Matcher => ({ label, op: '=~', value });
export const notRe = (label: string, value: string): Matcher => ({ label, op: '!~', value });

/** A PromQL string literal: `"` and `\` escaped, as PromQL's double-quoted strings read them. */
export function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** `metric{a="x",b=~"y"}`. */
export function selector(metric: string, matchers: readonly Matcher[]): string {
  return `${metric}{${matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`).join(',')}}`;
}

/** A regex matching `text` literally (RE2 metacharacters escaped). */
export function literalRegex(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** `sum by (labels) (rate(<selector>[window]))`: per second over the window. */
export function sumRate(metric: string, matchers: readonly Matcher[], by: readonly string[], window: string): string {
  return `sum by (${by.join(', ')}) (rate(${selector(metric, matchers)}[${window}]))`;
}

/** `sum by (labels) (increase(<selector>[window]))`: how many over the window. */
export function sumIncrease(metric: string, matchers: readonly Matcher[], by: readonly string[], window: string): string {
  return `sum by (${by.join(', ')}) (increase(${selector(metric, matchers)}[${window}]))`;
}

/** The q-quantile (0..1) of a histogram's `_bucket` series over the window, per group. */
export function quantile(q: number, bucketMetric: string, matchers: readonly Matcher[], by: readonly string[], window: string): string {
  return `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (rate(${selector(bucketMetric, matchers)}[${window}])))`;
}

/** A Prometheus duration (`30s`, `1m`, `1h30m`); Prometheus itself refuses a zero one, naming it. */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

export function windowArg(value: unknown): string {
  const text = String(value);
  if (!DURATION.test(text)) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--window ${JSON.stringify(text)} is not a Prometheus duration such as 30s, 1m or 5m` });
  return text;
}
