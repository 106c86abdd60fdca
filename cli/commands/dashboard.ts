import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { findEndpoint, type AdminComponent } from '../admin/admin-target.js';
import { withMeshNamespaceOption } from '../admin/target-options.js';
import { DEFAULT_METRICS, readOverview, readTopology, readWorkload } from '../dashboard/golden-metrics.js';
import { startDashboard, type DashboardData } from '../dashboard/dashboard-server.js';
import { readWorkloadConfig } from '../dashboard/workload-config.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import type { PrometheusClient } from '../prometheus/prometheus-client.js';
import { windowArg } from '../prometheus/promql.js';
import { prometheusFor, prometheusUrlArg } from '../prometheus/prometheus-source.js';
import { runCommand } from '../output.js';

/**
 * `weft dashboard`: a local web UI (cli/dashboard/) served by this process on 127.0.0.1 until Ctrl-C:
 * every workload's golden metrics with sparklines, the topology of who talks to whom with mTLS, and a
 * page per workload with its routes and policies. The numbers come from Prometheus, routes and policies
 * from the components' admin endpoints (as `weft get` reads them); the page asks only this server.
 */
type Args = ClusterArgs & { port: number; prometheus?: string; window: string; meshNamespace: string };

/** `--prometheus` as given; else the lab's own; a Kubernetes cluster's Prometheus is nowhere to be found by itself. */
function prometheusOf(client: ClusterClient, url: string | undefined): Promise<PrometheusClient> {
  if (url !== undefined || client.target.kind === 'lab') return prometheusFor({ prometheus: url, lab: client.target.kind === 'lab' ? client.target.name : undefined });
  throw new WeftError('ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND', { reason: `no --prometheus given for cluster ${client.target.context}` });
}

export const dashboardModule: CommandModule<object, Args> = {
  command: 'dashboard',
  describe: 'Serve a local web dashboard: golden metrics per workload, the topology with mTLS, routes and policies',
  builder: (y: Argv) =>
    withMeshNamespaceOption(withClusterOptions(y))
      .option('port', { type: 'number', default: 7070, describe: 'Port on 127.0.0.1 to serve on (0: any free port)' })
      .option('prometheus', { type: 'string', coerce: prometheusUrlArg, describe: "Prometheus's base URL (default: the lab's Prometheus)" })
      .option('window', { type: 'string', default: DEFAULT_METRICS.window, coerce: windowArg, describe: 'Rates, success and latency over this much of the past (a Prometheus duration: at least two scrape intervals)' })
      .example('sudo weft dashboard --lab demo', "serve the dashboard of lab demo on http://127.0.0.1:7070/, from the lab's Prometheus")
      .example('weft dashboard --prometheus http://127.0.0.1:9090 --port 8080', 'on Kubernetes, with a port-forward to Prometheus on 9090')
      .example('sudo weft dashboard --lab demo --window 20s', 'rates over the last 20 s: they follow a change of load sooner, and jitter more'),
  handler: (args) =>
    runCommand(async () => {
      const client = await connectCluster(args);
      const prom = await prometheusOf(client, args.prometheus);
      const endpoints = new Map<string, ReturnType<typeof findEndpoint>>();
      const endpointOf = (c: AdminComponent): ReturnType<typeof findEndpoint> => {
        const key = JSON.stringify(c);
        let ep = endpoints.get(key);
        if (!ep) endpoints.set(key, (ep = findEndpoint(client, c, args.meshNamespace)));
        // A failed lookup (a waypoint pod not yet there) is asked again next time.
        ep.catch(() => endpoints.delete(key));
        return ep;
      };
      const metrics = { ...DEFAULT_METRICS, window: args.window };
      const metricsAndConfig: Omit<DashboardData, 'tap'> = {
        overview: () => readOverview(prom, metrics),
        topology: () => readTopology(prom, metrics),
        workload: async (w) => {
          const m = await readWorkload(prom, w, metrics);
          const config = await readWorkloadConfig(client, endpointOf, w, m.services);
          return { at: Date.now(), window: metrics.window, edgeWindow: metrics.edgeWindow, ...m, ...config };
        },
      };
      // The tap's target discovery reads lab state (yaml): loaded only when the dashboard runs, as `weft tap` does.
      const { tapWorkload } = await import('../dashboard/workload-tap.js');
      const data: DashboardData = { ...metricsAndConfig, tap: (w, send) => tapWorkload(client, args.meshNamespace, w, send) };
      const dash = await startDashboard(data, args.port);
      console.log(`weft dashboard: ${dash.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dash.close();
      return 0;
    }),
};
