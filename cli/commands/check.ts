import type { Argv, CommandModule } from 'yargs';
import { parseDurationSeconds } from '../../lib/identity/leaf-lifetime.js';
import type { Finding, FindingSeverity } from '../check/findings.js';
import type { CheckResult } from '../kube/check-result.js';
import { renderCheck, skip } from '../kube/check-result.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { describeTarget } from '../../lib/kube/cluster-client.js';
import { connectCluster, controlPlaneModeBuilder, type ControlPlaneModeArgs } from '../kube/connect.js';
import { CA_MIN_SECONDS } from '../check/context.js';
import { consolePrinter, formatTable, printData, runCommand, type OutputFormat, type Printer } from '../output.js';

/**
 * `weft check [--pre]`: one line per check (✔ passed, ! warning, ✖ failed with the fix, - skipped), then,
 * after an install, the analyzers' findings (cli/check/, codes in docs/check.md) as a table, each with
 * the object it is about and what to do. Exits 1 when a check failed or a finding is an error. Against a
 * lab, the lab's own checks run.
 */
export interface CheckOptions {
  pre: boolean;
  namespace: string;
  now?: Date;
  /** A CA certificate with less left fails (default 30 days). */
  caExpirySeconds?: number;
  /** A workload certificate with less left is a finding (default: a quarter of its lifetime). */
  certExpirySeconds?: number;
}

export async function runChecks(client: ClusterClient, options: CheckOptions): Promise<CheckResult[]> {
  // Loaded here, not at start-up: the certificate checks pull in @peculiar/x509, the slowest module of the CLI.
  if (client.target.kind === 'lab') return (await import('../kube/lab-checks.js')).labChecks(client, options);
  if (options.pre) return (await import('../kube/pre-checks.js')).preChecks(client, options);
  return (await import('../kube/cluster-checks.js')).clusterChecks(client, options);
}

/** The health checks, then (not with --pre) the analyzers. */
export async function runCheckAndAnalyze(client: ClusterClient, options: CheckOptions): Promise<{ checks: CheckResult[]; findings: Finding[] }> {
  const checks = await runChecks(client, options);
  if (options.pre) return { checks, findings: [] };
  const { ANALYZERS, analyze, analyzerContext } = await import('../check/analyze.js');
  const { API_DOWN } = await import('../kube/cluster-checks.js');
  if (checks.some((r) => r.status === 'skip' && r.message === API_DOWN)) return { checks: [...checks, ...ANALYZERS.map((a) => skip(a.check, API_DOWN))], findings: [] };
  const ctx = analyzerContext(client, {
    meshNamespace: options.namespace,
    now: options.now ?? new Date(),
    caExpirySeconds: options.caExpirySeconds ?? CA_MIN_SECONDS,
    certExpirySeconds: options.certExpirySeconds,
  });
  const analysis = await analyze(ctx);
  return { checks: [...checks, ...analysis.results], findings: analysis.findings };
}

const SEVERITY_ORDER: Record<FindingSeverity, number> = { error: 0, warning: 1 };

export function findingRows(findings: readonly Finding[]): string[][] {
  const sorted = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.code.localeCompare(b.code) || a.object.localeCompare(b.object));
  return sorted.flatMap((f) => [
    [f.code, f.severity, f.object, f.message],
    ['', '', '', `fix: ${f.fix}`],
  ]);
}

export async function checkCommand(client: ClusterClient, options: CheckOptions & { output: OutputFormat }, printer: Printer): Promise<number> {
  const { checks, findings } = await runCheckAndAnalyze(client, options);
  const failed = checks.filter((r) => r.status === 'fail').length;
  const errors = findings.filter((f) => f.severity === 'error').length;
  const passed = failed === 0 && errors === 0;
  if (options.output !== 'table') {
    printData(printer, options.output, { target: client.target, pre: options.pre, passed, checks, findings }, [], []);
  } else {
    printer.out(`weft check${options.pre ? ' --pre' : ''} against ${describeTarget(client.target)}`);
    for (const r of checks) for (const line of renderCheck(r)) printer.out(line);
    if (findings.length > 0) {
      printer.out('');
      for (const line of formatTable(['CODE', 'SEVERITY', 'OBJECT', 'MESSAGE'], findingRows(findings))) printer.out(line);
      printer.out('');
    }
    const warned = checks.filter((r) => r.status === 'warn').length;
    const found = findings.length === 0 ? '' : `; ${findings.length} finding${findings.length > 1 ? 's' : ''} (${errors} error${errors === 1 ? '' : 's'}, docs/check.md)`;
    printer.out(failed === 0 ? `all checks passed${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}${found}` : `${failed} check${failed > 1 ? 's' : ''} failed${found}`);
  }
  return passed ? 0 : 1;
}

type Args = ControlPlaneModeArgs<'pre'> & { caExpiryThreshold: string; certExpiryThreshold?: string };

export const checkModule: CommandModule<object, Args> = {
  command: 'check',
  describe: 'Check that weft is installed and healthy and analyze routes, policies, node agents and certificates (or, with --pre, that the cluster is ready for it); exit 1 on any failure or error finding',
  builder: (y: Argv) =>
    controlPlaneModeBuilder('Namespace weft is (to be) installed in', 'pre', 'Check the prerequisites of an install instead')(y)
      .option('ca-expiry-threshold', { type: 'string', default: '30d', describe: 'A CA certificate with less than this left is a finding (WEFT-C030): 30d, 72h, 3600' })
      .option('cert-expiry-threshold', { type: 'string', describe: 'A workload certificate with less than this left is a finding (WEFT-C032); default a quarter of its lifetime' })
      .example('weft check --pre', 'before installing: permissions, other meshes, kernels, Gateway API CRDs')
      .example('weft check -o json', 'machine-readable results and findings (codes: docs/check.md)') as unknown as Argv<Args>,
  handler: (args) =>
    runCommand(async () => {
      const caExpirySeconds = parseDurationSeconds(args.caExpiryThreshold, '--ca-expiry-threshold');
      const certExpirySeconds = args.certExpiryThreshold === undefined ? undefined : parseDurationSeconds(args.certExpiryThreshold, '--cert-expiry-threshold');
      const options = { pre: args.pre, namespace: args.namespace, output: args.output, caExpirySeconds, ...(certExpirySeconds === undefined ? {} : { certExpirySeconds }) };
      return checkCommand(await connectCluster(args), options, consolePrinter);
    }),
};
