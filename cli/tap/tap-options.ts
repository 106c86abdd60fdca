import type { Argv } from 'yargs';
import type { TapFilter } from '../../lib/tap/index.js';
import type { AdminEndpoint } from '../admin/admin-client.js';
import { addressEndpoint } from '../admin/admin-target.js';
import { withMeshNamespaceOption } from '../admin/target-options.js';
import { kubeNameArg, namespaceArg } from '../arg-names.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';

/** The options `weft tap` and `weft top` share: which components, and the server-side filter. */
export type TapArgs = ClusterArgs & {
  meshNamespace: string;
  namespace?: string;
  workload?: string;
  path?: string;
  method?: string;
  admin: string[];
  seconds?: number;
};

export function withTapOptions<T>(y: Argv<T>): Argv<T & TapArgs> {
  return withMeshNamespaceOption(withClusterOptions(y))
    .option('namespace', { alias: 'n', type: 'string', coerce: namespaceArg('--namespace'), describe: 'Only traffic from or to this namespace' })
    .option('workload', { type: 'string', coerce: kubeNameArg('--workload', 'workload name', 'dns1123-subdomain'), describe: 'Only traffic from or to this workload (Deployment, StatefulSet, ... name; in -n when given)' })
    .option('path', { type: 'string', describe: 'Only requests whose path starts with this (at waypoints; connections have no path)' })
    .option('method', { type: 'string', describe: 'Only requests with this HTTP method (at waypoints)' })
    .option('admin', { type: 'string', array: true, default: [] as string[], describe: 'Tap the component at this admin address (host:port, e.g. after kubectl port-forward); repeatable' })
    .option('seconds', { type: 'number', describe: 'Stop after this many seconds' })
    .check((a) => {
      if (a.seconds !== undefined && !(a.seconds > 0)) throw new Error('--seconds must be a positive number');
      if (a.path !== undefined && !a.path.startsWith('/')) throw new Error(`--path ${a.path} must start with /`);
      return true;
    });
}

export function tapFilterOf(args: TapArgs): TapFilter {
  return { namespace: args.namespace, workload: args.workload, path: args.path, method: args.method?.toUpperCase() };
}

/** The components to tap: the `--admin` addresses, else every node agent and waypoint of the cluster. */
export async function tapTargets(args: TapArgs): Promise<AdminEndpoint[]> {
  if (args.admin.length > 0) return args.admin.map((a) => addressEndpoint(`admin ${a}`, a));
  // Loaded here, not at start: the lab's state reader pulls in YAML (`weft --help` stays light).
  const { tapEndpoints } = await import('./tap-targets.js');
  return tapEndpoints(await connectCluster(args), args.meshNamespace);
}

/** Resolves after `seconds` (never without), or when `ended` does; the timer never holds the process. */
export function until(ended: Promise<void>, seconds: number | undefined): Promise<void> {
  if (seconds === undefined) return ended;
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, seconds * 1000);
    void ended.then(() => (clearTimeout(t), resolve()));
  });
}
