import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { adminGet } from '../admin/admin-client.js';
import { findEndpoint, type AdminComponent } from '../admin/admin-target.js';
import { explainPath, type Explanation } from '../admin/explain-path.js';
import { EXPLAIN_HEADERS, explainRows } from '../admin/explain-table.js';
import { withMeshNamespaceOption } from '../admin/target-options.js';
import { namespaceArg } from '../arg-names.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import { Pod } from '../../lib/kube/resources.js';
import { consolePrinter, printData, runCommand, withOutputOption, type OutputFormat, type Printer } from '../output.js';

/**
 * `weft explain <source pod> <destination host[:port]>`: the path a connection from the pod would take and
 * what would happen to it, asked of the components on that path (explain-path.ts). Exit status 0 whatever
 * the verdict: a denial explained is an answer, not a failure.
 */
type Args = ClusterArgs & { source: string; destination: string; namespace: string; method: string; path: string; meshNamespace: string; output: OutputFormat };

/** `<pod>` (in -n) or `<namespace>/<pod>`. */
export function parseSource(source: string, namespace: string): { namespace: string; name: string } {
  const parts = source.split('/');
  if (parts.length === 1 && parts[0] !== '') return { namespace, name: parts[0] };
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return { namespace: parts[0], name: parts[1] };
  throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `the source ${JSON.stringify(source)} is not <pod> or <namespace>/<pod>` });
}

/** `host`, `host:port` or `[v6]:port`; the port defaults to 80. */
export function parseDestination(destination: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(destination);
  const port = m?.[3] === undefined ? 80 : Number(m[3]);
  const host = m?.[1] ?? m?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `the destination ${JSON.stringify(destination)} is not host[:port] (e.g. web.demo:80, 10.96.0.10:80)` });
  }
  return { host, port };
}

async function nodeOf(client: ClusterClient, namespace: string, name: string): Promise<string> {
  const pod = await client.get({ type: Pod, namespace, name });
  if (!pod) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `pod ${namespace}/${name}` });
  const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  if (!node) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `node of pod ${namespace}/${name} (not scheduled yet)` });
  return node;
}

export function printExplanation(printer: Printer, e: Explanation, output: OutputFormat): void {
  printData(printer, output, e, EXPLAIN_HEADERS, explainRows(e));
}

export const explainModule: CommandModule<object, Args> = {
  command: 'explain <source> <destination>',
  describe: 'Explain the path and the verdict for a connection from a pod to a host[:port], from the live state of the components on the path',
  builder: (y: Argv) =>
    withOutputOption(withMeshNamespaceOption(withClusterOptions(y)))
      .positional('source', { type: 'string', demandOption: true, describe: 'Source pod: <pod> (in -n) or <namespace>/<pod>' })
      .positional('destination', { type: 'string', demandOption: true, describe: 'Destination host[:port]: a Service name (web.demo), a VIP or a pod IP; port 80 by default' })
      .option('namespace', { alias: 'n', type: 'string', default: 'default', coerce: namespaceArg('--namespace'), describe: 'Namespace of the source pod' })
      .option('method', { type: 'string', default: 'GET', describe: 'HTTP method, for L7 policies and routes at a waypoint' })
      .option('path', { type: 'string', default: '/', describe: 'HTTP path (with query), for L7 policies and routes at a waypoint' })
      .example('weft explain -n demo client web.demo:80 --method POST --path /admin', 'would a POST /admin from demo/client to web.demo be allowed, and by which policy?'),
  handler: (args) =>
    runCommand(async () => {
      const src = parseSource(args.source, args.namespace);
      const dst = parseDestination(args.destination);
      const client = await connectCluster(args);
      const node = await nodeOf(client, src.namespace, src.name);
      const endpoints = new Map<string, Promise<Awaited<ReturnType<typeof findEndpoint>>>>();
      const endpointFor = (c: AdminComponent): ReturnType<typeof findEndpoint> => {
        const key = JSON.stringify(c);
        let ep = endpoints.get(key);
        if (!ep) endpoints.set(key, (ep = findEndpoint(client, c, args.meshNamespace)));
        return ep;
      };
      const explanation = await explainPath(
        { pod: `${src.namespace}/${src.name}`, node, host: dst.host, port: dst.port, method: args.method.toUpperCase(), path: args.path },
        async (c, path, query) => adminGet(await endpointFor(c), path, query),
      );
      printExplanation(consolePrinter, explanation, args.output);
      return 0;
    }),
};
