import type { Argv, CommandModule } from 'yargs';
import { consolePrinter, formatTable, runCommand } from '../output.js';
import { openTaps } from '../tap/tap-session.js';
import { tapFilterOf, tapTargets, until, withTapOptions, type TapArgs } from '../tap/tap-options.js';
import { TOP_HEADERS, TopTable, topCells } from '../tap/top-table.js';

/**
 * `weft top`: the hottest paths right now, from the waypoints' tap (requests only): count, success rate
 * and latency per source, destination Service, method and path, refreshed every --interval seconds. With
 * `-o json` it listens for --seconds (10 by default) and prints one snapshot.
 */
type Args = TapArgs & { output: 'table' | 'json'; interval: number; limit: number };

const JSON_DEFAULT_SECONDS = 10;

export const topModule: CommandModule<object, Args> = {
  command: 'top',
  describe: 'Show the hottest paths at the waypoints right now: request count, success rate and latency, refreshed live',
  builder: (y: Argv) =>
    withTapOptions(y)
      .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'A refreshed table, or one JSON snapshot after --seconds' })
      .option('interval', { type: 'number', default: 2, describe: 'Seconds between table refreshes' })
      .option('limit', { type: 'number', default: 20, describe: 'Rows shown (the hottest first)' })
      .check((a) => {
        if (!(a.interval > 0)) throw new Error('--interval must be a positive number');
        if (!Number.isInteger(a.limit) || a.limit < 1) throw new Error('--limit must be a positive integer');
        return true;
      })
      .example('weft top -n demo', 'the hottest paths to and from namespace demo, refreshed every 2 s')
      .example('weft top -n demo -o json --seconds 30', 'one snapshot of 30 s of requests, as JSON'),
  handler: (args) =>
    runCommand(async () => {
      const targets = await tapTargets(args);
      const out = consolePrinter;
      const table = new TopTable();
      const started = Date.now();
      const session = await openTaps(
        targets,
        { ...tapFilterOf(args), kind: 'request' },
        {
          event: (e) => e.type === 'request' && table.add(e),
          dropped: (n, component) => out.err(`${component} dropped ${n} events: counts are low by that much (weft_tap_dropped_total)`),
        },
        (line) => out.err(line),
      );
      const seconds = args.output === 'json' ? (args.seconds ?? JSON_DEFAULT_SECONDS) : args.seconds;
      out.err(`listening to ${session.components.join(', ')}${seconds === undefined ? ' (Ctrl-C to stop)' : ` for ${seconds} s`}`);
      const tty = process.stdout.isTTY === true;
      const render = (): void => {
        const lines = formatTable(TOP_HEADERS, table.rows(args.limit).map(topCells));
        if (tty) process.stdout.write('\x1b[2J\x1b[H');
        out.out(`${new Date().toISOString().slice(11, 19)}  requests over ${Math.round((Date.now() - started) / 1000)} s`);
        for (const l of lines) out.out(l);
        if (!tty) out.out('');
      };
      const refresh = args.output === 'table' ? setInterval(render, args.interval * 1000) : undefined;
      await until(session.ended, seconds);
      clearInterval(refresh);
      session.close();
      if (args.output === 'json') out.out(JSON.stringify({ seconds: (Date.now() - started) / 1000, components: session.components, rows: table.rows(args.limit) }, null, 2));
      else render();
      return 0;
    }),
};
