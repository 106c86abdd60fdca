import type { Argv } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { namespaceArg } from '../arg-names.js';
import { printData, withOutputOption, type OutputFormat, type Printer } from '../output.js';
import { windowArg } from '../prometheus/promql.js';
import { withPrometheusOptions, type PrometheusArgs } from '../prometheus/prometheus-source.js';
import { watchLoop } from './watch-loop.js';

/** The options `weft stat` and `weft edges` share: where to ask, which namespace, the window, --watch. */
export type TrafficArgs = PrometheusArgs & {
  namespace: string;
  allNamespaces: boolean;
  window: string;
  watch: boolean;
  interval: number;
  output: OutputFormat;
};

export function withTrafficOptions<T>(y: Argv<T>): Argv<T & TrafficArgs> {
  return withOutputOption(withPrometheusOptions(y))
    .option('namespace', { alias: 'n', type: 'string', default: 'default', coerce: namespaceArg('--namespace'), describe: 'Namespace to show' })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Every namespace' })
    .option('window', { type: 'string', default: '1m', coerce: windowArg, describe: 'Rates and percentiles over this much of the past (a Prometheus duration: at least two scrape intervals)' })
    .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Ask again every --interval seconds until interrupted' })
    .option('interval', { type: 'number', default: 5, coerce: intervalArg, describe: 'Seconds between two answers with --watch' }) as unknown as Argv<T & TrafficArgs>;
}

function intervalArg(value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.5 || n > 3600) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--interval ${JSON.stringify(value)} must be a number of seconds from 0.5 to 3600` });
  return n;
}

/** -n, or undefined with -A. */
export function namespaceOf(args: Pick<TrafficArgs, 'namespace' | 'allNamespaces'>): string | undefined {
  return args.allNamespaces ? undefined : args.namespace;
}

/** What a traffic command answers: the data (-o json|yaml) and the lines of its table. */
export interface TrafficAnswer {
  readonly data: unknown;
  readonly table: readonly string[];
}

/** The lines of an answer in the output format; `compact` JSON is one line (one answer per line with --watch). */
export function renderAnswer(answer: TrafficAnswer, output: OutputFormat, compact: boolean): string[] {
  if (output === 'table') return [...answer.table];
  if (output === 'json' && compact) return [JSON.stringify(answer.data)];
  const lines: string[] = [];
  printData({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, output, answer.data, [], []);
  return lines;
}

/** Prints one answer, or with --watch a new one every --interval seconds until interrupted. */
export async function answerOnceOrWatch(args: TrafficArgs, printer: Printer, answer: () => Promise<TrafficAnswer>): Promise<void> {
  if (!args.watch) {
    for (const line of renderAnswer(await answer(), args.output, false)) printer.out(line);
    return;
  }
  const redraw = args.output === 'table' && process.stdout.isTTY === true;
  await watchLoop(
    async () => {
      const lines = renderAnswer(await answer(), args.output, true);
      if (args.output === 'yaml') lines.unshift('---');
      else if (args.output === 'table' && !redraw) lines.push('');
      return lines;
    },
    { intervalMs: args.interval * 1000, printer, redraw },
  );
}
