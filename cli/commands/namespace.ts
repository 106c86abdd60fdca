import type { Argv, CommandModule } from 'yargs';
import { namespaceArg } from '../arg-names.js';
import { LABEL_DATAPLANE_MODE, LABEL_USE_WAYPOINT } from '../../lib/names.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import { Namespace } from '../../lib/kube/resources.js';
import { consolePrinter, printData, runCommand, withOutputOption, type OutputFormat, type Printer } from '../output.js';

/** `weft namespace enable|disable <ns>`: puts a namespace's pods in the mesh or takes them out. */
export interface NamespaceResult {
  namespace: string;
  dataplaneMode: string | null;
  waypoint: string | null;
}

export async function setNamespaceMode(client: ClusterClient, namespace: string, enable: boolean): Promise<NamespaceResult> {
  const stored = await client.setLabels({ type: Namespace, name: namespace }, { [LABEL_DATAPLANE_MODE]: enable ? 'ambient' : null });
  const labels = stored.metadata.labels ?? {};
  return { namespace, dataplaneMode: labels[LABEL_DATAPLANE_MODE] ?? null, waypoint: labels[LABEL_USE_WAYPOINT] ?? null };
}

export async function namespaceCommand(client: ClusterClient, action: 'enable' | 'disable', namespace: string, output: OutputFormat, printer: Printer): Promise<number> {
  const result = await setNamespaceMode(client, namespace, action === 'enable');
  if (output !== 'table') {
    printData(printer, output, result, [], []);
    return 0;
  }
  printer.out(
    action === 'enable'
      ? `namespace ${namespace}: ${LABEL_DATAPLANE_MODE}=ambient — its pods now get mTLS and a SPIFFE identity (no restart needed)`
      : `namespace ${namespace}: ${LABEL_DATAPLANE_MODE} removed — its pods leave the mesh`,
  );
  return 0;
}

type Args = ClusterArgs & { action: 'enable' | 'disable'; namespace: string; output: OutputFormat };

export const namespaceModule: CommandModule<object, Args> = {
  command: 'namespace <action> <namespace>',
  describe: 'Put a namespace in the mesh (enable) or take it out (disable) by its weft.dev/dataplane-mode label',
  builder: (y: Argv) =>
    withOutputOption(withClusterOptions(y))
      .positional('action', { choices: ['enable', 'disable'] as const, demandOption: true, describe: 'enable: label ambient; disable: remove the label' })
      .positional('namespace', { type: 'string', demandOption: true, coerce: namespaceArg('namespace'), describe: 'Namespace name (an existing namespace)' })
      .example('weft namespace enable demo', 'capture every pod of namespace demo')
      .example('weft namespace disable demo --lab lab', 'release them, in the lab named lab'),
  handler: (args) =>
    runCommand(async () => namespaceCommand(await connectCluster(args), args.action, args.namespace, args.output, consolePrinter)),
};
