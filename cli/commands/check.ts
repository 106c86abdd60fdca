import type { Argv, CommandModule } from 'yargs';
import type { CheckResult } from '../kube/check-result.js';
import { renderCheck } from '../kube/check-result.js';
import type { ClusterClient } from '../kube/cluster-client.js';
import { describeTarget } from '../kube/cluster-client.js';
import { connectCluster, withControlPlaneOptions, type ControlPlaneArgs } from '../kube/connect.js';
import { consolePrinter, printData, runCommand, type OutputFormat, type Printer } from '../output.js';

/**
 * `weft check [--pre]`: one line per check (✔ passed, ! warning, ✖ failed with the fix, - skipped);
 * exits 1 when any check failed. Against a lab, the lab's own checks run.
 */
export async function runChecks(client: ClusterClient, options: { pre: boolean; namespace: string; now?: Date }): Promise<CheckResult[]> {
  // Loaded here, not at start-up: the certificate checks pull in @peculiar/x509, the slowest module of the CLI.
  if (client.target.kind === 'lab') return (await import('../kube/lab-checks.js')).labChecks(client);
  if (options.pre) return (await import('../kube/pre-checks.js')).preChecks(client, options);
  return (await import('../kube/cluster-checks.js')).clusterChecks(client, options);
}

export async function checkCommand(client: ClusterClient, options: { pre: boolean; namespace: string; output: OutputFormat; now?: Date }, printer: Printer): Promise<number> {
  const results = await runChecks(client, options);
  const failed = results.filter((r) => r.status === 'fail').length;
  if (options.output !== 'table') {
    printData(printer, options.output, { target: client.target, pre: options.pre, passed: failed === 0, checks: results }, [], []);
  } else {
    printer.out(`weft check${options.pre ? ' --pre' : ''} against ${describeTarget(client.target)}`);
    for (const r of results) for (const line of renderCheck(r)) printer.out(line);
    const warned = results.filter((r) => r.status === 'warn').length;
    printer.out(failed === 0 ? `all checks passed${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}` : `${failed} check${failed > 1 ? 's' : ''} failed`);
  }
  return failed === 0 ? 0 : 1;
}

type Args = ControlPlaneArgs & { pre: boolean };

export const checkModule: CommandModule<object, Args> = {
  command: 'check',
  describe: 'Check that weft is installed and healthy (or, with --pre, that the cluster is ready for it); exit 1 on any failure',
  builder: (y: Argv) =>
    withControlPlaneOptions(y, 'Namespace weft is (to be) installed in')
      .option('pre', { type: 'boolean', default: false, describe: 'Check the prerequisites of an install instead' })
      .example('weft check --pre', 'before installing: permissions, other meshes, kernels, Gateway API CRDs')
      .example('weft check -o json', 'machine-readable results'),
  handler: (args) => runCommand(async () => checkCommand(await connectCluster(args), { pre: args.pre, namespace: args.namespace, output: args.output }, consolePrinter)),
};
