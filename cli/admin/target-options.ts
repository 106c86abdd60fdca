import type { Argv } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { kubeNameArg, namespaceArg } from '../arg-names.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import type { AdminEndpoint } from './admin-client.js';
import { directEndpoint, findEndpoint, type AdminComponent } from './admin-target.js';

/** The options that name one node agent or waypoint (`weft get`), and how to reach it. */
export type TargetArgs = ClusterArgs & {
  node?: string;
  waypoint?: string;
  namespace: string;
  admin?: string;
  meshNamespace: string;
};

export function withMeshNamespaceOption<T>(y: Argv<T>): Argv<T & { meshNamespace: string }> {
  return y.option('mesh-namespace', {
    type: 'string',
    default: 'weft-system',
    coerce: namespaceArg('--mesh-namespace'),
    describe: 'Namespace of the node agents (Kubernetes; the chart installs them in weft-system)',
  }) as unknown as Argv<T & { meshNamespace: string }>;
}

export function withTargetOptions<T>(y: Argv<T>): Argv<T & TargetArgs> {
  return withMeshNamespaceOption(withClusterOptions(y))
    .option('node', { type: 'string', coerce: kubeNameArg('--node', 'node name', 'dns1123-subdomain'), describe: 'The node agent of this node' })
    .option('waypoint', { type: 'string', coerce: kubeNameArg('--waypoint', 'waypoint name', 'dns1035-label'), describe: 'The waypoint of this name (in -n)' })
    .option('namespace', { alias: 'n', type: 'string', default: 'default', coerce: namespaceArg('--namespace'), describe: 'Namespace of the waypoint' })
    .option('admin', { type: 'string', describe: 'Admin address to use as is (host:port, e.g. after `kubectl port-forward`)' })
    .conflicts('node', 'waypoint');
}

export function componentOf(args: Pick<TargetArgs, 'node' | 'waypoint' | 'namespace'>): AdminComponent {
  if (args.node !== undefined) return { kind: 'agent', node: args.node };
  if (args.waypoint !== undefined) return { kind: 'waypoint', namespace: args.namespace, name: args.waypoint };
  throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: 'say which component to ask: --node <node> for a node agent, or -n <namespace> --waypoint <name> for a waypoint' });
}

export async function endpointOf(args: TargetArgs): Promise<AdminEndpoint> {
  const c = componentOf(args);
  if (args.admin !== undefined) return directEndpoint(c, args.admin);
  return findEndpoint(await connectCluster(args), c, args.meshNamespace);
}
