import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { connectCluster, withClusterOptions, withControlNamespaceOption, type ClusterArgs } from '../kube/connect.js';
import { checkChartDir, defaultChartDir, findHelm, runHelm } from '../kube/helm.js';
import { consolePrinter, runCommand, type Printer } from '../output.js';
import { startProgress } from '../progress.js';

/**
 * `weft install`: renders (--dry-run) or installs/upgrades the weft chart through Helm. The chart's values
 * schema checks every --set; Helm's message is passed through when it refuses one. The chart's CRDs are
 * templates, so Helm installs and upgrades them; CRDs that exist outside any release (an install from
 * before) are taken over once with --take-ownership (kube/chart-crds.ts).
 */
export interface InstallOptions {
  namespace: string;
  release: string;
  chart: string;
  set: readonly string[];
  values: readonly string[];
  dryRun: boolean;
  wait: boolean;
  /** Adopt existing objects Helm did not create (the chart's CRDs from an older install). */
  takeOwnership?: boolean;
  timeout: number;
  kubeconfig?: string;
  context?: string;
}

export function helmArgs(o: InstallOptions): string[] {
  const common = [o.release, o.chart, '--namespace', o.namespace, ...o.values.flatMap((f) => ['--values', f]), ...o.set.flatMap((s) => ['--set', s])];
  if (o.dryRun) return ['template', ...common];
  return [
    'upgrade',
    '--install',
    ...common,
    '--create-namespace',
    // A CRD conflicts with the field manager that created it: Helm's chart is the truth for it now.
    ...(o.takeOwnership === true ? ['--take-ownership', '--force-conflicts'] : []),
    ...(o.wait ? ['--wait', '--timeout', `${o.timeout}s`] : []),
    ...(o.kubeconfig === undefined ? [] : ['--kubeconfig', o.kubeconfig]),
    ...(o.context === undefined ? [] : ['--kube-context', o.context]),
  ];
}

/** `cluster` is asked which of the chart's CRDs Helm must take over; a dry run needs none. */
export async function installCommand(o: InstallOptions, printer: Printer, helm = findHelm(), cluster?: ClusterClient): Promise<number> {
  checkChartDir(o.chart);
  for (const s of o.set) {
    if (!/^[^=]+=/.test(s)) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--set ${s}: expected key=value (e.g. --set control.replicaCount=3)` });
  }
  for (const f of o.values) {
    if (!existsSync(f)) throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `-f/--values ${f}: no such file` });
  }
  if (o.dryRun) {
    const { stdout } = await runHelm(helm, helmArgs(o));
    printer.out(stdout.trimEnd());
    return 0;
  }
  if (cluster === undefined) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: 'weft install without a cluster to look at the CRDs in' });
  const progress = startProgress(`installing weft into namespace ${o.namespace}${o.wait ? ' and waiting for it to be ready' : ''}`);
  try {
    // Loaded here: it parses YAML, which `weft --help` must not pay for.
    const { unownedChartCrds } = await import('../kube/chart-crds.js');
    const unowned = await unownedChartCrds(cluster, o.chart);
    if (unowned.length > 0) progress.update(`Helm takes over ${unowned.join(', ')} (installed outside any release); running helm`);
    const { stdout } = await runHelm(helm, helmArgs({ ...o, takeOwnership: unowned.length > 0 }));
    progress.done(`weft installed in namespace ${o.namespace} (release ${o.release})`);
    printer.out(stdout.trimEnd());
  } catch (err) {
    progress.fail(`installing weft into namespace ${o.namespace} failed`);
    throw err;
  }
  printer.out(`next: \`weft check -n ${o.namespace}\` verifies the control plane, the node agents and the CNI chain on every node`);
  return 0;
}

type Args = ClusterArgs & { namespace: string; release: string; chart?: string; set: string[]; values: string[]; dryRun: boolean; wait: boolean; timeout: number };

export const installModule: CommandModule<object, Args> = {
  command: 'install',
  describe: 'Install or upgrade weft on the current cluster with Helm (--dry-run prints the manifests)',
  builder: (y: Argv) =>
    withControlNamespaceOption(withClusterOptions(y), 'Namespace of the control plane and node agents')
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
      const options: InstallOptions = {
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
      };
      if (args.dryRun) return installCommand(options, consolePrinter);
      if (args.lab !== undefined) throw new WeftError('ERR_WEFT_CLI_LAB_UNSUPPORTED', { what: 'weft install' });
      const cluster = await connectCluster(args);
      if (cluster.target.kind === 'lab') throw new WeftError('ERR_WEFT_CLI_LAB_UNSUPPORTED', { what: 'weft install' });
      return installCommand(options, consolePrinter, findHelm(), cluster);
    }),
};
