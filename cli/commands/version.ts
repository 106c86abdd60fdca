import type { CommandModule } from 'yargs';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { connectCluster, controlPlaneModeBuilder, type ControlPlaneModeArgs } from '../kube/connect.js';
import { clientVersion } from '../../lib/package-root.js';
import { hasCode } from '../../lib/errors/index.js';
import { Pod } from '../../lib/kube/resources.js';
import { consolePrinter, printData, reportError, runCommand, type OutputFormat, type Printer } from '../output.js';

/**
 * `weft version`: the client's version and, when a cluster is reachable, the control plane's. The control
 * plane's version is read from its pods (the chart's app.kubernetes.io/version label and image), which
 * needs only read access to pods in its namespace, no port-forward. In a lab the control plane runs this
 * same checkout.
 */
export interface VersionInfo {
  client: { version: string; node: string };
  kubernetes: string | null;
  controlPlane: { version: string; images: string[]; ready: string; source: string } | null;
  /** Why the control plane's version is unknown, when it is. */
  note?: string;
}

export async function collectVersion(client: ClusterClient | undefined, namespace: string, unreachable?: string): Promise<VersionInfo> {
  const info: VersionInfo = { client: { version: clientVersion(), node: process.version }, kubernetes: null, controlPlane: null };
  if (client === undefined) return { ...info, note: unreachable ?? 'no cluster' };
  if (client.target.kind === 'lab') {
    return { ...info, controlPlane: { version: info.client.version, images: ['weft/control'], ready: 'lab', source: `lab ${client.target.name} runs this checkout` } };
  }
  try {
    info.kubernetes = (await client.serverVersion()).gitVersion;
    const pods = await client.list(Pod, { namespace, labelSelector: 'app.kubernetes.io/name=weft-control' });
    if (pods.length === 0) return { ...info, note: `no weft-control pods in namespace ${namespace} (not installed? try -n)` };
    const versions = [...new Set(pods.map((p) => p.metadata.labels?.['app.kubernetes.io/version'] ?? 'unknown'))];
    const images = [...new Set(pods.flatMap((p) => ((p.spec?.containers ?? []) as { image?: string }[]).map((c) => c.image ?? '')))].filter((i) => i !== '');
    const ready = pods.filter((p) => ((p.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True')).length;
    info.controlPlane = { version: versions.join(','), images, ready: `${ready}/${pods.length}`, source: `pods in ${namespace}` };
    return info;
  } catch (err) {
    return { ...info, note: err instanceof Error ? err.message : String(err) };
  }
}

export function printVersion(printer: Printer, info: VersionInfo, output: OutputFormat): void {
  if (output !== 'table') return printData(printer, output, info, [], []);
  printer.out(`client:        weft ${info.client.version} (node ${info.client.node})`);
  if (info.kubernetes !== null) printer.out(`kubernetes:    ${info.kubernetes}`);
  if (info.controlPlane !== null) printer.out(`control plane: weft ${info.controlPlane.version} (${info.controlPlane.ready} ready, ${info.controlPlane.images.join(', ')}; ${info.controlPlane.source})`);
  else printer.out(`control plane: unknown — ${info.note ?? 'not reachable'}`);
}

export const versionModule: CommandModule<object, ControlPlaneModeArgs<'client'>> = {
  command: 'version',
  describe: 'Print the version of this client and, when reachable, of the control plane',
  builder: controlPlaneModeBuilder('Namespace of the control plane', 'client', 'Only the client version (no cluster access)'),
  handler: (args) =>
    runCommand(async () => {
      let client: ClusterClient | undefined;
      let unreachable: string | undefined;
      if (!args.client) {
        try {
          client = await connectCluster(args);
        } catch (err) {
          unreachable = err instanceof Error ? err.message : String(err);
          // A named lab that is missing, or several labs and none named: refused, not "version unknown".
          if (args.lab !== undefined || hasCode(err, 'ERR_WEFT_CLI_LAB_AMBIGUOUS')) return reportError(consolePrinter, err);
        }
      }
      printVersion(consolePrinter, await collectVersion(client, args.namespace, args.client ? 'not asked (--client)' : unreachable), args.output);
      return 0;
    }),
};
