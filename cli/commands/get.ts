import type { Argv, CommandModule } from 'yargs';
import { adminGet } from '../admin/admin-client.js';
import { GET_KINDS, GET_VIEWS, type GetKind } from '../admin/get-views.js';
import { endpointOf, withTargetOptions, type TargetArgs } from '../admin/target-options.js';
import { consolePrinter, printData, runCommand, withOutputOption, type OutputFormat, type Printer } from '../output.js';

/**
 * `weft get workloads|policies|certificates|config`: what one node agent or waypoint holds, read from its
 * admin endpoint (as `istioctl ztunnel-config` reads ztunnel's). The answer is that component's own view:
 * a workload missing here is one it does not know.
 */
type Args = TargetArgs & { kind: GetKind; output: OutputFormat };

export function printGet(printer: Printer, kind: GetKind, answer: unknown, output: OutputFormat, now: number = Date.now()): void {
  const view = GET_VIEWS[kind];
  const rows = view.rows(answer, now);
  if (output === 'table' && rows.length === 0) return printer.out(`no ${kind}`);
  printData(printer, output, view.data(answer), view.headers, rows);
}

export const getModule: CommandModule<object, Args> = {
  command: 'get <kind>',
  describe: 'Show the workloads, policies, certificates or config one node agent or waypoint holds',
  builder: (y: Argv) =>
    withOutputOption(withTargetOptions(y))
      .positional('kind', { choices: GET_KINDS, demandOption: true, describe: 'What to show' })
      .example('weft get workloads --node n1', "the workloads the node agent on n1 knows")
      .example('weft get certificates -n demo --waypoint waypoint', "the waypoint's certificate: SPIFFE ID, serial, validity, root"),
  handler: (args) =>
    runCommand(async () => {
      const endpoint = await endpointOf(args);
      printGet(consolePrinter, args.kind, await adminGet(endpoint, GET_VIEWS[args.kind].path), args.output);
      return 0;
    }),
};
