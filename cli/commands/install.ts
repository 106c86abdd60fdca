import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import { checkChartDir, defaultChartDir, findHelm, runHelm } from '../kube/helm.js';
import { consolePrinter, runCommand, type Printer } from '../output.js';
import { startProgress } from '../progress.js';

/**
 * `weft install`: renders (--dry-run) or installs/upgrades the weft chart through Helm. The chart's values
 * schema checks every --set; Helm's message is passed through when it refuses one.
 */
export interface InstallOptions {
  namespace: string;
  release: string;
  chart: string;
  set: readonly string[];
  values: readonly string[];
  dryRun: boolean;
  wait: boolean;
  timeout: number;
  kubeconfig?: string;
  context?: string;
}

export function helmArgs(o: InstallOptions): string[] {
  const common = [o.release, o.chart, '--namespace', o.namespace, ...o.values.flatMap((f) => ['--values', f]), ...o.set.flatMap((s) => ['--set', s])];
  if (o.dryRun) return ['template', ...common, '--include-crds'];
  return [
    'upgrade',
    '--install',
    ...common,
    '--create-namespace',
    ...(o.wait ? ['--wait', '--timeout', `${o.timeout}s`] : []),
    ...(o.kubeconfig === undefined ? [] : ['--kubeconfig', o.kubeconfig]),
    ...(o.context === undefined ? [] : ['--kube-context', o.context]),
  ];
}

export async function installCommand(o: InstallOptions, printer: Printer, helm = findHelm()): Promise<number> {
  checkChartDir(o.chart);
  for (const s of o.set) {
    if (!/^[^=]+=/.test(s)) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--set ${s}: expected key=value (e.g. --set control.replicaCount=3)` });
  }
  if (o.dryRun) {
    const { stdout } = await runHelm(helm, helmArgs(o));
    printer.out(stdout.trimEnd());
    return 0;
  }
  const progress = startProgress(`installing weft into namespace ${o.namespace}${o.wait ? ' and waiting for it to be ready' : ''}`);
  try {
    const { stdout } = await runHelm(helm, helmArgs(o));
    progress.done(`weft installed in namespace ${o.namespace} (release ${o.release})`);
    printer.out(stdout.trimEnd());
  } catch (err) {
    progress.fail('helm failed');
    throw err;
  }
  printer.out('next: `weft check` verifies the control plane, the node agents and the CNI chain on every node');
  return 0;
}

type Args = ClusterArgs & { namespace: string; release: string; chart?: string; set: string[]; values: string[]; dryRun: boolean; wait: boolean; timeout: number };

export const installModule: CommandModule<object, Args> = {
  command: 'install',
  describe: 'Install or upgrade weft on the current cluster with Helm (--dry-run prints the manifests)',
  builder: (y: Argv) =>
    withClusterOptions(y)
      .option('namespace', { alias: 'n', type: 'string', default: 'weft-system', describe: 'Namespace of the control plane and node agents' })
      .option('release', { type: 'string', default: 'weft', describe: 'Helm release name' })
      .option('chart', { type: 'string', describe: 'Chart directory (default: the chart shipped with this CLI)' })
      .option('set', { type: 'string', array: true, default: [] as string[], describe: 'Chart value key=value (repeatable), e.g. control.replicaCount=3' })
      .option('values', { alias: 'f', type: 'string', array: true, default: [] as string[], describe: 'Values file (repeatable)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the rendered manifests instead of installing' })
      .option('wait', { type: 'boolean', default: true, describe: 'Wait until the control plane and node agents are ready' })
      .option('timeout', { type: 'number', default: 300, describe: 'Seconds to wait' })
      .example('weft install', 'install with the defaults into weft-system')
      .example('weft install --set control.replicaCount=3 --set ca.externalSecret=my-ca', 'HA control plane with your own CA')
      .example('weft install --dry-run > weft.yaml', 'render the manifests for review or GitOps') as unknown as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      if (!args.dryRun && (args.lab !== undefined || (await targetIsLab(args)))) {
        throw new WeftError('ERR_WEFT_CLI_LAB_UNSUPPORTED', { what: 'weft install' });
      }
      return installCommand(
        {
          namespace: args.namespace,
          release: args.release,
          chart: args.chart ?? defaultChartDir(),
          set: args.set,
          values: args.values,
          dryRun: args.dryRun,
          wait: args.wait,
          timeout: args.timeout,
          ...(args.kubeconfig === undefined ? {} : { kubeconfig: args.kubeconfig }),
          ...(args.context === undefined ? {} : { context: args.context }),
        },
        consolePrinter,
      );
    }),
};

async function targetIsLab(args: ClusterArgs): Promise<boolean> {
  try {
    return (await connectCluster(args)).target.kind === 'lab';
  } catch {
    return false; // no cluster found: let helm say so in its own words
  }
}
