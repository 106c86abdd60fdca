import type { Argv } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { labPaths } from '../../lab/names.js';
import { labNameArg } from '../arg-names.js';
import { labRoot, theRunningLab } from '../kube/connect.js';
import { PrometheusClient } from './prometheus-client.js';

/**
 * Which Prometheus `weft stat` and `weft edges` ask: `--prometheus <url>` as given; else the lab `--lab`
 * names, or the one lab running (said on stderr), as every command that targets a lab chooses it; several
 * running and none named are refused (ERR_WEFT_CLI_LAB_AMBIGUOUS, listing them). A kubeconfig says nothing
 * about where a cluster's Prometheus is, so outside a lab the URL must be given.
 */
export interface PrometheusArgs {
  prometheus?: string;
  lab?: string;
}

export function withPrometheusOptions<T>(y: Argv<T>): Argv<T & PrometheusArgs> {
  return y
    .option('prometheus', { type: 'string', coerce: prometheusUrlArg, describe: "Prometheus's base URL (default: the lab's Prometheus, with --lab or when one lab runs)" })
    .option('lab', { type: 'string', coerce: labNameArg, describe: "Ask this weft lab's Prometheus" })
    .conflicts('prometheus', 'lab');
}

/** An http(s) URL; anything else is a usage error before anything is asked. */
export function prometheusUrlArg(value: unknown): string {
  const text = String(value);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `--prometheus ${JSON.stringify(text)} is not an http(s) base URL such as http://127.0.0.1:9090` });
  }
  return text;
}

export async function prometheusFor(args: PrometheusArgs, env: NodeJS.ProcessEnv = process.env, notice: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<PrometheusClient> {
  if (args.prometheus !== undefined) return new PrometheusClient(args.prometheus);
  const root = labRoot(env);
  const lab = args.lab ?? theRunningLab(root);
  if (lab === undefined) throw new WeftError('ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND', { reason: `no --prometheus given and no lab running under ${root}` });
  if (args.lab === undefined) notice(`using the Prometheus of lab ${lab}, the only one running (--lab <name> or --prometheus <url> to choose)`);
  const { labPrometheusHostUrl } = await import('../../lab/prometheus/host-url.js');
  return new PrometheusClient(await labPrometheusHostUrl(labPaths(lab, root), lab));
}
