import type { EnrollmentRequest } from '../../lib/enrollment.js';
import { WeftError } from '../../lib/errors/index.js';
import type * as AgentClient from './agent-client.js';
import type { AgentCommand } from './agent-client.js';
import { parseCniArgs, podRefOf, type PodRef } from './cni-args.js';
import { toCniError } from './cni-errors.js';
import { decodeStdin, isPlainObject, parsePluginConfig, type PluginConfig } from './config.js';
import { PluginLog } from './plugin-log.js';
import { isSupportedVersion, LATEST_CNI_VERSION, SUPPORTED_CNI_VERSIONS } from './versions.js';

export type CniEnv = Readonly<Record<string, string | undefined>>;

export interface PluginOutcome {
  /** What the plugin prints on stdout (a result, a version report, an error, or nothing). */
  readonly stdout: string;
  readonly exitCode: number;
}

export interface MainOptions {
  /** Where log lines go when the config names no log_file (the entry passes process.stderr). */
  readonly stderr?: (line: string) => void;
}

/**
 * The agent client is loaded only by the commands that talk to the agent: it pulls in `node:net` (~10
 * ms of start-up here), which VERSION, GC, excluded namespaces and errors found in the input never need.
 */
const agentClient = (): Promise<typeof AgentClient> => import('./agent-client.js');

/** How long DEL keeps trying to connect to an absent or restarting agent before giving up (and succeeding). */
const DEL_CONNECT_RETRY_MS = 1_000;

/** Container IDs per CNI spec 1.0: alphanumeric first, then alphanumerics, `_`, `.` or `-`. */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Linux interface names per CNI spec 1.0: 1-15 bytes, not `.`/`..`, no `/`, `:` or whitespace. */
const IFNAME = /^[^/:\s]{1,15}$/;

/**
 * The whole plugin as a function: CNI environment and stdin in, stdout and exit code out. It never
 * throws and never waits longer than the config's agent_timeout_ms (plus scheduling noise), so the lab
 * and the tests can run it in-process and `plugin.ts` stays a thin process wrapper.
 */
export async function main(env: CniEnv, stdin: string, opts: MainOptions = {}): Promise<PluginOutcome> {
  const stderr = opts.stderr ?? (() => {});
  let version = LATEST_CNI_VERSION;
  let log = new PluginLog('warn', undefined, stderr);
  try {
    const command = env.CNI_COMMAND;
    if (command === undefined || command === '') throw envError('CNI_COMMAND is not set');
    if (command === 'VERSION') return versionReport(stdin);
    if (!['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'].includes(command)) {
      throw envError(`unknown CNI_COMMAND "${command.slice(0, 32)}" (expected ADD, DEL, CHECK, STATUS, GC or VERSION)`);
    }
    const obj = decodeStdin(stdin);
    // Errors are reported in the caller's version when it is one we speak.
    if (isSupportedVersion(obj.cniVersion)) version = obj.cniVersion;
    const config = parsePluginConfig(obj, { dropBadPrevResult: command === 'DEL' });
    log = new PluginLog(config.logLevel, config.logFile, stderr);
    log.bind({ command, containerId: env.CNI_CONTAINERID });

    switch (command) {
      case 'ADD':
        return await add(env, config, log);
      case 'DEL':
        return await del(env, config, log);
      case 'CHECK':
        return await check(env, config, log);
      case 'STATUS':
        await (await agentClient()).checkHealth({ socket: config.cniSocket, deadline: Date.now() + config.agentTimeoutMs, retryConnectUntil: Date.now() });
        return { stdout: '', exitCode: 0 };
      default:
        // GC: weft-cni keeps no per-attachment state; the agent garbage-collects enrollments of pods that
        // left the discovery stream, so there is nothing to release here.
        return { stdout: '', exitCode: 0 };
    }
  } catch (err) {
    const result = toCniError(err, version === LATEST_CNI_VERSION ? (requestedVersion(stdin) ?? version) : version);
    log.error('command failed', { code: result.code, error: result.msg });
    return { stdout: JSON.stringify(result) + '\n', exitCode: 1 };
  }
}

async function add(env: CniEnv, config: PluginConfig, log: PluginLog): Promise<PluginOutcome> {
  const target = targetOf(env, 'ADD', true);
  // A chained plugin adds no interface: without a previous result there is nothing to pass on, and
  // printing an empty result would tell the runtime the pod has no network.
  if (config.prevResult === undefined) {
    throw new WeftError('ERR_WEFT_CNI_CONFIG_INVALID', { reason: 'ADD needs a prevResult: weft-cni must be chained after the primary CNI plugin, never first in the conflist' });
  }
  // The previous result goes on unchanged, in the version the runtime asked for (it converted it already).
  const { cniVersion: _prevVersion, ...prev } = config.prevResult;
  const passThrough = { stdout: JSON.stringify({ cniVersion: config.cniVersion, ...prev }) + '\n', exitCode: 0 };
  const pod = podRefOf(target.args);
  if (pod === undefined) {
    log.debug('not a Kubernetes pod (no K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS); passed through');
    return passThrough;
  }
  log.bind({ pod: `${pod.namespace}/${pod.name}` });
  if (config.excludeNamespaces.includes(pod.namespace)) {
    log.debug('namespace excluded; passed through without asking the agent');
    return passThrough;
  }
  const deadline = Date.now() + config.agentTimeoutMs;
  const { enroll } = await agentClient();
  const answer = await enroll(request('ADD', target, pod, config), { socket: config.cniSocket, deadline, retryConnectUntil: deadline });
  log.info(answer.captured ? 'pod captured' : 'pod not captured', { reason: answer.reason });
  return passThrough;
}

/**
 * DEL is best effort: it logs and succeeds when the agent cannot be reached or fails. The CNI spec asks
 * plugins to complete DEL even when resources are gone, and a failing DEL keeps the sandbox (and the pod)
 * stuck in Terminating while the runtime retries forever. Nothing is leaked by succeeding: the capture
 * rules live inside the pod's network namespace, which dies with it, and the agent drops enrollments of
 * pods that leave its discovery stream (Istio's CNI plugin makes the same choice). Connection retries are
 * cut to DEL_CONNECT_RETRY_MS, so a node without an agent does not slow every pod deletion down by the
 * whole ADD budget, while an agent restarting at that moment still gets the DEL.
 */
async function del(env: CniEnv, config: PluginConfig, log: PluginLog): Promise<PluginOutcome> {
  const target = targetOf(env, 'DEL', false);
  const pod = podRefOf(target.args);
  if (pod === undefined || config.excludeNamespaces.includes(pod.namespace)) return { stdout: '', exitCode: 0 };
  log.bind({ pod: `${pod.namespace}/${pod.name}` });
  try {
    const now = Date.now();
    await (await agentClient()).enroll(request('DEL', target, pod, config), { socket: config.cniSocket, deadline: now + config.agentTimeoutMs, retryConnectUntil: now + DEL_CONNECT_RETRY_MS });
  } catch (err) {
    log.warn('DEL not delivered to the node agent; succeeding anyway (the agent reconciles)', { error: (err as Error).message });
  }
  return { stdout: '', exitCode: 0 };
}

async function check(env: CniEnv, config: PluginConfig, log: PluginLog): Promise<PluginOutcome> {
  const target = targetOf(env, 'CHECK', true);
  if (config.prevResult === undefined) {
    throw new WeftError('ERR_WEFT_CNI_CONFIG_INVALID', { reason: 'CHECK needs the prevResult of the preceding ADD' });
  }
  const pod = podRefOf(target.args);
  if (pod === undefined || config.excludeNamespaces.includes(pod.namespace)) return { stdout: '', exitCode: 0 };
  log.bind({ pod: `${pod.namespace}/${pod.name}` });
  const deadline = Date.now() + config.agentTimeoutMs;
  await (await agentClient()).enroll(request('CHECK', target, pod, config), { socket: config.cniSocket, deadline, retryConnectUntil: deadline });
  return { stdout: '', exitCode: 0 };
}

interface Target {
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly args: Map<string, string>;
}

function targetOf(env: CniEnv, command: AgentCommand, needNetns: boolean): Target {
  const containerId = env.CNI_CONTAINERID ?? '';
  if (!CONTAINER_ID.test(containerId)) throw envError(`CNI_CONTAINERID ${containerId === '' ? 'is not set' : `"${containerId.slice(0, 64)}" is not a valid container ID`} (${command})`);
  const netns = env.CNI_NETNS ?? '';
  if (needNetns && netns === '') throw envError(`CNI_NETNS is not set (${command})`);
  const ifname = env.CNI_IFNAME ?? '';
  if (!IFNAME.test(ifname) || ifname === '.' || ifname === '..') {
    throw envError(`CNI_IFNAME ${ifname === '' ? 'is not set' : `"${ifname.slice(0, 32)}" is not a valid interface name`} (${command})`);
  }
  return { containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS) };
}

function request(command: AgentCommand, target: Target, pod: PodRef, config: PluginConfig): EnrollmentRequest {
  const req: EnrollmentRequest = {
    command,
    containerId: target.containerId,
    netns: target.netns,
    ifname: target.ifname,
    podNamespace: pod.namespace,
    podName: pod.name,
    podUid: pod.uid,
    config: config.raw,
  };
  if (config.prevResult !== undefined) req.prevResult = config.prevResult;
  return req;
}

/**
 * VERSION needs no config: the runtime may send `{"cniVersion": ...}` (the version it wants the report
 * in); anything unreadable there is ignored rather than failing a discovery call.
 */
function versionReport(stdin: string): PluginOutcome {
  let version = LATEST_CNI_VERSION;
  if (stdin.trim() !== '') {
    try {
      const obj: unknown = JSON.parse(stdin);
      if (isPlainObject(obj) && isSupportedVersion(obj.cniVersion)) version = obj.cniVersion;
    } catch {
      // ignored, see above
    }
  }
  return { stdout: JSON.stringify({ cniVersion: version, supportedVersions: SUPPORTED_CNI_VERSIONS }) + '\n', exitCode: 0 };
}

/** The stdin's cniVersion when it is readable and one we speak, so errors come back in that version. */
function requestedVersion(stdin: string): string | undefined {
  try {
    const obj: unknown = JSON.parse(stdin);
    return isPlainObject(obj) && isSupportedVersion(obj.cniVersion) ? obj.cniVersion : undefined;
  } catch {
    return undefined;
  }
}

function envError(reason: string): WeftError {
  return new WeftError('ERR_WEFT_CNI_ENV_INVALID', { reason });
}
