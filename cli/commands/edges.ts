import type { Argv, CommandModule } from 'yargs';
import { consolePrinter, runCommand } from '../output.js';
import { answerOnceOrWatch, namespaceOf, withTrafficOptions, type TrafficArgs } from '../traffic/traffic-options.js';

/**
 * `weft edges`: who talks to whom, with both SPIFFE identities, mutual TLS or not, and the counts of
 * connections, requests and denials, answered from Prometheus (docs/inspect.md).
 */
export const edgesModule: CommandModule<object, TrafficArgs> = {
  command: 'edges',
  describe: 'Who talks to whom: workloads and SPIFFE identities at both ends, mTLS, connections, requests and policy denials, from Prometheus',
  builder: (y: Argv) =>
    withTrafficOptions(y)
      .example('weft edges -n demo', 'every edge into or out of namespace demo over the last minute')
      .example('weft edges -A --window 1h -o json', 'every edge of the last hour, for a script'),
  handler: (args) =>
    runCommand(async () => {
      const [{ collectEdges, edgesAnswer }, { prometheusFor }] = await Promise.all([import('../traffic/edge-view.js'), import('../prometheus/prometheus-source.js')]);
      const client = await prometheusFor(args);
      const namespace = namespaceOf(args);
      await answerOnceOrWatch(args, consolePrinter, async () => edgesAnswer(await collectEdges(client, namespace, args.window)));
      return 0;
    }),
};
