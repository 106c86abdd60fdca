import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Argv } from 'yargs';
import { WeftError } from '../../lib/errors/index.js';
import { LAB_STATE_ROOT } from '../../lab/names.js';
import { CONTROL_NAMESPACE } from '../../lib/names.js';
import { labNameArg, namespaceArg } from '../arg-names.js';
import { withOutputOption, type OutputFormat } from '../output.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';

/**
 * Chooses the cluster a command talks to: `--lab <name>` → that lab; otherwise the kubeconfig
 * (`--kubeconfig`, $KUBECONFIG, ~/.kube/config, or in-cluster); with no kubeconfig at all, the one running
 * lab, said on stderr (several → refused, ERR_WEFT_CLI_LAB_AMBIGUOUS: the user must name one).
 */
export interface ClusterArgs {
  lab?: string;
  kubeconfig?: string;
  context?: string;
}

/** The options every cluster-facing command shares. */
export function withClusterOptions<T>(y: Argv<T>): Argv<T & ClusterArgs> {
  return y
    .option('lab', { type: 'string', coerce: labNameArg, describe: 'Talk to the weft lab with this name instead of a Kubernetes cluster' })
    .option('kubeconfig', { type: 'string', describe: 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' })
    .option('context', { type: 'string', describe: 'Kubeconfig context (default: the current one)' });
}

/** `-n/--namespace`: where weft's control plane is (or is to be) installed, `weft-system` unless told. */
export function withControlNamespaceOption<T>(y: Argv<T>, describe: string): Argv<T & { namespace: string }> {
  return y.option('namespace', { alias: 'n', type: 'string', default: CONTROL_NAMESPACE, coerce: namespaceArg('--namespace'), describe });
}

/** A command that reads weft's control plane on a cluster or lab and prints what it found (-o). */
export type ControlPlaneArgs = ClusterArgs & { namespace: string; output: OutputFormat };

export function withControlPlaneOptions<T>(y: Argv<T>, describeNamespace: string): Argv<T & ControlPlaneArgs> {
  return withControlNamespaceOption(withOutputOption(withClusterOptions(y)), describeNamespace);
}

/** ControlPlaneArgs plus the one boolean switch that picks the command's mode (`check --pre`, `version --client`). */
export type ControlPlaneModeArgs<K extends string> = ControlPlaneArgs & Record<K, boolean>;

/** The builder of such a command: the control-plane options and its mode switch, off by default. */
export function controlPlaneModeBuilder<K extends string>(describeNamespace: string, mode: K, describeMode: string): (y: Argv) => Argv<ControlPlaneModeArgs<K>> {
  return (y) => withControlPlaneOptions(y, describeNamespace).option(mode, { type: 'boolean', default: false, describe: describeMode });
}

/** Where labs keep their state; WEFT_LAB_ROOT overrides it (tests use a temp dir). */
export function labRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEFT_LAB_ROOT ?? LAB_STATE_ROOT;
}

/**
 * A lab's API server, with the lab's admin kubeconfig (lab/kube/lab-client.ts); loaded only when a
 * command talks to a lab. A lab that does not exist is ERR_WEFT_LAB_NOT_FOUND.
 */
async function labClient(name: string, root: string): Promise<ClusterClient> {
  const [{ labClient: clientOf }, { readLabInfo }, { labPaths }] = await Promise.all([import('../../lab/kube/lab-client.js'), import('../../lab/state.js'), import('../../lab/names.js')]);
  const paths = labPaths(name, root);
  return clientOf(await readLabInfo(paths, name), { stateDir: paths.root });
}

export async function connectCluster(args: ClusterArgs, env: NodeJS.ProcessEnv = process.env): Promise<ClusterClient> {
  const root = labRoot(env);
  if (args.lab !== undefined) return labClient(args.lab, root);
  const kubeconfig = findKubeconfig(args, env);
  if (kubeconfig !== undefined) {
    // @kubernetes/client-node is loaded only when a command talks to Kubernetes: `--help` and lab commands start faster.
    const [{ KubeClusterClient }, { KubeConfig }] = await Promise.all([import('../../lib/kube/kube-cluster.js'), import('@kubernetes/client-node')]);
    return new KubeClusterClient(loadKubeconfig(new KubeConfig(), kubeconfig, args.context));
  }
  const lab = theRunningLab(root);
  if (lab !== undefined) {
    notice(`using lab ${lab}, the only one running (--lab <name> to choose)`);
    return labClient(lab, root);
  }
  throw new WeftError('ERR_WEFT_CLI_NO_CLUSTER', { kubeconfig: defaultKubeconfigs(env).join(delimiter) || '~/.kube/config', labRoot: root });
}

type KubeconfigSource = { file: string } | { inCluster: true };

function findKubeconfig(args: ClusterArgs, env: NodeJS.ProcessEnv): KubeconfigSource | undefined {
  if (args.kubeconfig !== undefined) return { file: args.kubeconfig };
  const file = defaultKubeconfigs(env).find((f) => existsSync(f));
  if (file !== undefined) return { file };
  if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return { inCluster: true };
  return undefined;
}

function defaultKubeconfigs(env: NodeJS.ProcessEnv): string[] {
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') return env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
  return [join(env.HOME ?? homedir(), '.kube', 'config')];
}

function loadKubeconfig(kc: KubeConfig, source: KubeconfigSource, context: string | undefined): KubeConfig {
  const path = 'file' in source ? source.file : 'in-cluster';
  try {
    if ('file' in source) kc.loadFromFile(source.file);
    else kc.loadFromCluster();
    if (context !== undefined) {
      if (kc.getContextObject(context) === null) throw new Error(`context ${context} is not in it (contexts: ${kc.getContexts().map((c) => c.name).join(', ')})`);
      kc.setCurrentContext(context);
    }
    if (kc.getCurrentCluster() === null) throw new Error('its current context names no cluster');
  } catch (err) {
    throw new WeftError('ERR_WEFT_CLI_KUBECONFIG_INVALID', { path, reason: err instanceof Error ? err.message : String(err) }, { cause: err });
  }
  return kc;
}

/** Where "using lab x" goes: stderr, so that `-o json` on stdout stays clean. */
function notice(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The one running lab under `root`, or undefined when none runs. Several are refused with
 * ERR_WEFT_CLI_LAB_AMBIGUOUS (a usage error) listing them: a command must never pick one of them silently.
 */
export function theRunningLab(root: string): string | undefined {
  const labs = runningLabs(root);
  if (labs.length > 1) throw new WeftError('ERR_WEFT_CLI_LAB_AMBIGUOUS', { labs: labs.join(', '), choices: labs.map((l) => `--lab ${l}`).join(', ') });
  return labs[0];
}

/** Names of labs under the root (each has its lab.json from the first `up` on). */
export function runningLabs(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      return statSync(join(root, n, 'lab.json')).isFile();
    } catch {
      return false;
    }
  }).sort();
}
