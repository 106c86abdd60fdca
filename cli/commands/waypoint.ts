import type { Argv, CommandModule } from 'yargs';
import { WeftError, hasCode } from '../../lib/errors/index.js';
import { kubeNameArg, namespaceArg } from '../arg-names.js';
import { HBONE_PORT, LABEL_USE_WAYPOINT, LABEL_WAYPOINT_FOR, WAYPOINT_CLASS } from '../../lib/names.js';
import type { ClusterClient, KubeObject } from '../../lib/kube/cluster-client.js';
import { connectCluster, withClusterOptions, type ClusterArgs } from '../kube/connect.js';
import { weftCommand } from '../check/context.js';
import { conditionOf } from '../kube/conditions.js';
import { Deployment, Gateway, Namespace, Service } from '../../lib/kube/resources.js';
import { consolePrinter, printData, runCommand, withOutputOption, type OutputFormat, type Printer } from '../output.js';
import { startProgress, waitFor } from '../progress.js';

/**
 * `weft waypoint apply|delete|list|status`: a waypoint is a Gateway of class weft-waypoint with one HBONE
 * listener on 15008 (ARCHITECTURE.md "Names"); the control plane's waypoint controller runs it.
 */
export type WaypointFor = 'service' | 'workload' | 'all' | 'none';

/** The waypoint's Service is named after its Gateway, so the name must be what a Service name may be. */
const WAYPOINT_NAME = kubeNameArg('--name', 'waypoint name', 'dns1035-label');

export function waypointGateway(namespace: string, name: string, waypointFor: WaypointFor): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace, labels: { [LABEL_WAYPOINT_FOR]: waypointFor } },
    spec: { gatewayClassName: WAYPOINT_CLASS, listeners: [{ name: 'mesh', port: HBONE_PORT, protocol: 'HBONE' }] },
  };
}

export interface WaypointInfo {
  namespace: string;
  name: string;
  for: string;
  programmed: string;
  reason: string;
  addresses: string[];
  /** Who sends traffic through it: the namespace and/or Services labelled weft.dev/use-waypoint. */
  enrolled: string[];
}

export interface WaypointStatus extends WaypointInfo {
  conditions: { type: string; status: string; reason: string; message: string }[];
  deployment: { name: string; replicas: number; readyReplicas: number } | null;
}

/** Applies the waypoint's Gateway; enrolling anything is a separate step, taken once it is ready. */
export async function applyWaypoint(client: ClusterClient, opts: { namespace: string; name: string; for: WaypointFor }): Promise<WaypointInfo> {
  await client.apply(waypointGateway(opts.namespace, opts.name, opts.for));
  return describeWaypoint(client, opts.namespace, opts.name);
}

/** Labels the namespace so its Services' traffic goes through the waypoint (call once it is ready). */
export async function enrollNamespace(client: ClusterClient, namespace: string, name: string): Promise<void> {
  await client.setLabels({ type: Namespace, name: namespace }, { [LABEL_USE_WAYPOINT]: name });
}

/**
 * Whether a request through the waypoint would succeed now: the control plane says Programmed for the
 * Gateway's current generation, which it does only with a Ready replica (HBONE listener serving) that
 * discovery has delivered to the node agents of the namespace's nodes (control/status/gateway.ts).
 */
export function readinessOf(g: KubeObject): { ready: boolean; state: string } {
  const c = conditionOf(g, 'Programmed');
  const generation = g.metadata.generation;
  const stale = c !== undefined && generation !== undefined && c.observedGeneration !== undefined && c.observedGeneration < generation;
  const detail = c === undefined ? 'no status yet (is weft-control running?)' : `${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`;
  if (stale) return { ready: false, state: `Programmed=${c.status} for generation ${c.observedGeneration}, not yet for ${generation}` };
  return { ready: c?.status === 'True', state: `Programmed=${c?.status ?? 'Unknown'} (${detail})` };
}

/** Polls until `readinessOf` says ready; throws ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing. */
export async function waitForWaypoint(
  client: ClusterClient,
  opts: { namespace: string; name: string; timeoutMs: number; enrollment: string; intervalMs?: number },
): Promise<void> {
  const what = `waypoint ${opts.namespace}/${opts.name}`;
  const progress = startProgress(`waiting for ${what} to be ready (a replica Ready, known to the node agents)`);
  try {
    await waitFor(
      what,
      async () => {
        const g = await client.get({ type: Gateway, namespace: opts.namespace, name: opts.name });
        if (g === undefined) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `waypoint (Gateway) ${opts.namespace}/${opts.name}` });
        return readinessOf(g);
      },
      { timeoutMs: opts.timeoutMs, progress, ...(opts.intervalMs === undefined ? {} : { intervalMs: opts.intervalMs }) },
    );
    progress.done(`${what} is ready`);
  } catch (err) {
    progress.fail(`${what} is not ready`);
    if (hasCode(err, 'ERR_WEFT_CLI_WAIT_TIMEOUT')) {
      const { seconds, state } = err.params as { seconds: number; state: string };
      throw new WeftError('ERR_WEFT_CLI_WAYPOINT_NOT_READY', { namespace: opts.namespace, name: opts.name, seconds, state, enrollment: opts.enrollment }, { cause: err });
    }
    throw err;
  }
}

/** Deletes the Gateway and removes the namespace's enrollment when it names this waypoint. */
export async function deleteWaypoint(client: ClusterClient, namespace: string, name: string): Promise<{ deleted: boolean; unenrolled: boolean }> {
  const deleted = await client.delete({ type: Gateway, namespace, name });
  const ns = await client.get({ type: Namespace, name: namespace });
  let unenrolled = false;
  if (ns?.metadata.labels?.[LABEL_USE_WAYPOINT] === name) {
    await client.setLabels({ type: Namespace, name: namespace }, { [LABEL_USE_WAYPOINT]: null });
    unenrolled = true;
  }
  return { deleted, unenrolled };
}

export async function listWaypoints(client: ClusterClient, namespace: string | undefined): Promise<WaypointInfo[]> {
  const gateways = (await client.list(Gateway, namespace === undefined ? {} : { namespace })).filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS);
  const out: WaypointInfo[] = [];
  for (const g of gateways) out.push(await infoOf(client, g));
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export async function describeWaypoint(client: ClusterClient, namespace: string, name: string): Promise<WaypointInfo> {
  const g = await client.get({ type: Gateway, namespace, name });
  if (g === undefined) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `waypoint (Gateway) ${namespace}/${name}` });
  return infoOf(client, g);
}

export async function waypointStatus(client: ClusterClient, namespace: string, name: string): Promise<WaypointStatus> {
  const g = await client.get({ type: Gateway, namespace, name });
  if (g === undefined) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `waypoint (Gateway) ${namespace}/${name}` });
  const info = await infoOf(client, g);
  const conditions = ((g.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[]).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason ?? '',
    message: c.message ?? '',
  }));
  const deployments = await client.list(Deployment, { namespace });
  const owned = deployments.find((d) => (d.metadata.ownerReferences ?? []).some((o) => o.kind === 'Gateway' && o.name === name)) ?? deployments.find((d) => d.metadata.name === name);
  const deployment =
    owned === undefined
      ? null
      : {
          name: owned.metadata.name,
          replicas: Number((owned.spec?.replicas as number | undefined) ?? 1),
          readyReplicas: Number((owned.status?.readyReplicas as number | undefined) ?? 0),
        };
  return { ...info, conditions, deployment };
}

async function infoOf(client: ClusterClient, g: KubeObject): Promise<WaypointInfo> {
  const namespace = g.metadata.namespace ?? 'default';
  const programmed = conditionOf(g, 'Programmed');
  const addresses = ((g.status?.addresses ?? []) as { value?: string }[]).map((a) => a.value ?? '').filter((v) => v !== '');
  const enrolled: string[] = [];
  const ns = await client.get({ type: Namespace, name: namespace });
  if (ns?.metadata.labels?.[LABEL_USE_WAYPOINT] === g.metadata.name) enrolled.push(`namespace/${namespace}`);
  for (const s of await client.list(Service, { namespace, labelSelector: `${LABEL_USE_WAYPOINT}=${g.metadata.name}` })) enrolled.push(`service/${s.metadata.name}`);
  return {
    namespace,
    name: g.metadata.name,
    for: g.metadata.labels?.[LABEL_WAYPOINT_FOR] ?? 'service',
    programmed: programmed?.status ?? 'Unknown',
    reason: programmed?.reason ?? 'no status yet (is weft-control running?)',
    addresses,
    enrolled,
  };
}

function rowsOf(list: readonly WaypointInfo[]): string[][] {
  return list.map((w) => [w.namespace, w.name, w.for, w.programmed, w.addresses.join(',') || '-', w.enrolled.join(',') || '-']);
}
const HEADERS = ['NAMESPACE', 'NAME', 'FOR', 'PROGRAMMED', 'ADDRESS', 'ENROLLED'];

type ApplyArgs = ClusterArgs & { namespace: string; name: string; for: WaypointFor; enrollNamespace: boolean; wait: boolean; timeout: number; output: OutputFormat };
type NamedArgs = ClusterArgs & { namespace: string; name: string; output: OutputFormat };
type ListArgs = ClusterArgs & { namespace?: string; allNamespaces: boolean; output: OutputFormat };

/**
 * `--enroll-namespace` labels the namespace only once the waypoint is ready (so it implies the wait):
 * enrolling earlier sends the namespace's traffic to a waypoint no node agent can reach yet.
 */
export async function waypointApplyCommand(
  client: ClusterClient,
  args: Omit<ApplyArgs, keyof ClusterArgs> & { intervalMs?: number },
  printer: Printer,
): Promise<number> {
  let info = await applyWaypoint(client, { namespace: args.namespace, name: args.name, for: args.for });
  if (args.wait || args.enrollNamespace) {
    await waitForWaypoint(client, {
      namespace: args.namespace,
      name: args.name,
      timeoutMs: args.timeout * 1000,
      enrollment: args.enrollNamespace ? `namespace ${args.namespace} was not enrolled` : 'nothing was enrolled',
      ...(args.intervalMs === undefined ? {} : { intervalMs: args.intervalMs }),
    });
    if (args.enrollNamespace) await enrollNamespace(client, args.namespace, args.name);
    info = await describeWaypoint(client, args.namespace, args.name);
  }
  if (args.output !== 'table') printData(printer, args.output, info, [], []);
  else {
    printer.out(`waypoint ${args.namespace}/${args.name} applied (Gateway, class ${WAYPOINT_CLASS}, listener mesh ${HBONE_PORT}/HBONE)`);
    if (args.enrollNamespace) printer.out(`namespace ${args.namespace}: ${LABEL_USE_WAYPOINT}=${args.name} — its Services' traffic now goes through the waypoint`);
    else printer.out(`to use it: label a Service or the namespace ${LABEL_USE_WAYPOINT}=${args.name} (or re-run with --enroll-namespace)`);
  }
  return 0;
}

/** What every command about one waypoint takes: the cluster, -o, and which waypoint (-n, --name). */
function withWaypointOptions(y: Argv) {
  return withOutputOption(withClusterOptions(y))
    .option('namespace', { alias: 'n', type: 'string', default: 'default', coerce: namespaceArg('--namespace'), describe: 'Namespace of the waypoint' })
    .option('name', { type: 'string', default: 'waypoint', coerce: WAYPOINT_NAME, describe: 'Name of the waypoint Gateway (also of its Deployment and Service)' });
}

const applyModule: CommandModule<object, ApplyArgs> = {
  command: 'apply',
  describe: 'Create or update a waypoint (a Gateway of class weft-waypoint)',
  builder: (y: Argv) =>
    withWaypointOptions(y)
      .option('for', { choices: ['service', 'workload', 'all', 'none'] as const, default: 'service' as const, describe: 'Traffic the waypoint handles (weft.dev/waypoint-for)' })
      .option('enroll-namespace', { type: 'boolean', default: false, describe: `Also label the namespace ${LABEL_USE_WAYPOINT}=<name>, once the waypoint is ready (implies --wait)` })
      .option('wait', { type: 'boolean', default: false, describe: 'Wait until a request through the waypoint would succeed: a replica Ready and known to the node agents (Programmed)' })
      .option('timeout', { type: 'number', default: 120, describe: 'Seconds to wait with --wait or --enroll-namespace' })
      .example('weft waypoint apply -n demo --enroll-namespace --wait', 'deploy a waypoint for namespace demo and send its Services through it') as unknown as Argv<ApplyArgs>,
  handler: (args) => runCommand(async () => waypointApplyCommand(await connectCluster(args), args, consolePrinter)),
};

/**
 * Deletes the waypoint unless AuthorizationPolicies need it for their L7 rules (they would fail closed,
 * WEFT-C011): those are named on stderr, and the delete is refused (ERR_WEFT_CLI_WAYPOINT_NEEDED) unless
 * `force`. Exit status 1 when there was nothing to delete.
 */
export async function waypointDeleteCommand(client: ClusterClient, args: { namespace: string; name: string; force: boolean; output: OutputFormat }, printer: Printer): Promise<number> {
  const { policiesFailingClosedWithout } = await import('../check/fail-closed-preview.js');
  const failing = await policiesFailingClosedWithout(client, args.namespace, args.name);
  for (const f of failing) printer.err(`warning WEFT-C011 PolicyFailClosed: AuthorizationPolicy ${f.policy} would be enforced as DENY for all the traffic it selects: ${f.why}`);
  if (failing.length > 0 && !args.force) {
    throw new WeftError('ERR_WEFT_CLI_WAYPOINT_NEEDED', {
      namespace: args.namespace,
      name: args.name,
      policies: failing.map((f) => `AuthorizationPolicy ${f.policy}`).join(', '),
      command: weftCommand(client, `waypoint delete -n ${args.namespace} --name ${args.name} --force`),
    });
  }
  const r = await deleteWaypoint(client, args.namespace, args.name);
  if (args.output !== 'table') printData(printer, args.output, { namespace: args.namespace, name: args.name, ...r, failClosed: failing.map((f) => f.policy) }, [], []);
  else if (!r.deleted) printer.out(`waypoint ${args.namespace}/${args.name} did not exist`);
  else printer.out(`waypoint ${args.namespace}/${args.name} deleted${r.unenrolled ? `; namespace ${args.namespace} no longer uses it` : ''}`);
  return r.deleted ? 0 : 1;
}

const deleteModule: CommandModule<object, NamedArgs & { force: boolean }> = {
  command: 'delete',
  describe: 'Delete a waypoint (and the namespace enrollment that names it); refused while L7 policies need it, unless --force',
  builder: (y: Argv) =>
    withWaypointOptions(y).option('force', { type: 'boolean', default: false, describe: 'Delete it even when AuthorizationPolicies with L7 rules then fail closed (deny all the traffic they select)' }),
  handler: (args) => runCommand(async () => waypointDeleteCommand(await connectCluster(args), args, consolePrinter)),
};

const listModule: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List waypoints',
  builder: (y: Argv) =>
    withOutputOption(withClusterOptions(y))
      .option('namespace', { alias: 'n', type: 'string', coerce: namespaceArg('--namespace'), describe: 'Only this namespace' })
      .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Every namespace (the default without -n)' }) as unknown as Argv<ListArgs>,
  handler: (args) =>
    runCommand(async () => {
      const list = await listWaypoints(await connectCluster(args), args.allNamespaces ? undefined : args.namespace);
      if (args.output === 'table' && list.length === 0) consolePrinter.out('no waypoints (create one with `weft waypoint apply`)');
      else printData(consolePrinter, args.output, list, HEADERS, rowsOf(list));
    }),
};

export async function waypointStatusCommand(client: ClusterClient, namespace: string, name: string, output: OutputFormat, printer: Printer): Promise<number> {
  const s = await waypointStatus(client, namespace, name);
  if (output !== 'table') printData(printer, output, s, [], []);
  else {
    for (const line of [
      `waypoint ${s.namespace}/${s.name} (for ${s.for})`,
      `  programmed: ${s.programmed} (${s.reason})`,
      `  addresses:  ${s.addresses.join(', ') || '-'}`,
      `  deployment: ${s.deployment === null ? '- (not created yet)' : `${s.deployment.name} ${s.deployment.readyReplicas}/${s.deployment.replicas} ready`}`,
      `  enrolled:   ${s.enrolled.join(', ') || '- (nothing sends traffic through it)'}`,
      ...s.conditions.map((c) => `  condition ${c.type}=${c.status} ${c.reason}${c.message === '' ? '' : `: ${c.message}`}`),
    ]) {
      printer.out(line);
    }
  }
  return s.programmed === 'True' ? 0 : 1;
}

const statusModule: CommandModule<object, NamedArgs> = {
  command: 'status',
  describe: 'Show a waypoint\'s conditions, deployment and what is enrolled (exit 1 unless Programmed)',
  builder: (y: Argv) =>
    withWaypointOptions(y),
  handler: (args) => runCommand(async () => waypointStatusCommand(await connectCluster(args), args.namespace, args.name, args.output, consolePrinter)),
};

export const waypointModule: CommandModule = {
  command: 'waypoint <command>',
  describe: 'Deploy, list, inspect and delete waypoints (L7 proxies for a namespace or Service)',
  builder: (y: Argv) =>
    y
      .command(applyModule as CommandModule)
      .command(deleteModule as CommandModule)
      .command(listModule as CommandModule)
      .command(statusModule as CommandModule)
      .demandCommand(1, 'Name a waypoint command: apply, delete, list or status.'),
  handler: () => undefined,
};
