import type { Argv, CommandModule } from 'yargs';
import { consolePrinter, runCommand } from '../output.js';
import { answerOnceOrWatch, namespaceOf, withTrafficOptions, type TrafficArgs } from '../traffic/traffic-options.js';

/**
 * `weft stat`: golden metrics per namespace, workload, route or authority (success rate, requests per
 * second, p50/p95/p99 latency, share of mutual TLS), answered from Prometheus (docs/inspect.md).
 */
type Args = TrafficArgs & { resource: string };

export const statModule: CommandModule<object, Args> = {
  command: 'stat <resource>',
  describe: 'Success rate, requests per second, latency percentiles and % mTLS per namespace, workload, route or authority, from Prometheus',
  builder: (y: Argv) =>
    withTrafficOptions(y)
      .positional('resource', { type: 'string', demandOption: true, describe: 'namespace | deployment | route | authority, alone (each in -n) or as deployment/NAME, route/NAME, authority/HOST' })
      .example('weft stat deployment -n demo', 'every workload of namespace demo')
      .example('weft stat deployment/web -n demo --window 5m', 'one workload over the last five minutes')
      .example('weft stat route -n demo -o json', 'every HTTPRoute of demo, for a script')
      .example('weft stat namespace --watch', 'every namespace, refreshed every 5 s'),
  handler: (args) =>
    runCommand(async () => {
      const [{ parseStatTarget }, { collectStat, statAnswer }, { prometheusFor }] = await Promise.all([
        import('../traffic/stat-queries.js'),
        import('../traffic/stat-view.js'),
        import('../prometheus/prometheus-source.js'),
      ]);
      const target = parseStatTarget(args.resource, namespaceOf(args));
      const client = await prometheusFor(args);
      await answerOnceOrWatch(args, consolePrinter, async () => statAnswer(await collectStat(client, target, args.window)));
      return 0;
    }),
};
