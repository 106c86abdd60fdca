import type { Argv, CommandModule } from 'yargs';
import { consolePrinter, runCommand } from '../output.js';
import { openTaps } from '../tap/tap-session.js';
import { tapLine } from '../tap/tap-line.js';
import { tapFilterOf, tapTargets, until, withTapOptions, type TapArgs } from '../tap/tap-options.js';

/**
 * `weft tap`: a live stream of the requests every waypoint serves and the connections every node agent
 * carries, with both SPIFFE identities and the policy verdict (the enforced one, with policy and rule, and
 * the dry-run one), read from the components' own tap (admin /debug/tap) and filtered there.
 */
type Args = TapArgs & { output: 'table' | 'json' };

export const tapModule: CommandModule<object, Args> = {
  command: 'tap',
  describe: 'Stream the requests at waypoints and the connections at node agents, live, with identities and policy verdicts',
  builder: (y: Argv) =>
    withTapOptions(y)
      .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'One line per event: for people (table) or one JSON object (json)' })
      .example('weft tap -n demo', 'every request and connection from or to namespace demo')
      .example('weft tap -n demo --workload web --path /api --method POST -o json', "POSTs under /api to or from demo's web, as JSON lines"),
  handler: (args) =>
    runCommand(async () => {
      const targets = await tapTargets(args);
      const out = consolePrinter;
      const session = await openTaps(
        targets,
        tapFilterOf(args),
        {
          event: (e, component) => out.out(args.output === 'json' ? JSON.stringify({ component, ...e }) : tapLine(e, component)),
          dropped: (n, component) => out.err(`${component} dropped ${n} events: this reader was too slow (weft_tap_dropped_total)`),
        },
        (line) => out.err(line),
      );
      out.err(`tapping ${session.components.join(', ')}${args.seconds === undefined ? ' (Ctrl-C to stop)' : ` for ${args.seconds} s`}`);
      await until(session.ended, args.seconds);
      session.close();
      return 0;
    }),
};
