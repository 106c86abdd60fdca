import { WeftError } from '../../lib/errors/index.js';
import { isSupportedVersion, SUPPORTED_CNI_VERSIONS } from './versions.js';

// Hand-written validation rather than zod: the plugin runs once per pod operation and its startup time
// is on the pod-creation path, so it imports nothing beyond node built-ins and the error table.

/** Same value as `DEFAULT_CNI_SOCKET` in lib/enrollment.ts (that module imports zod; a test pins them equal). */
export const DEFAULT_CNI_SOCKET = '/var/run/weft/cni.sock';
export const DEFAULT_EXCLUDE_NAMESPACES: readonly string[] = ['kube-system', 'weft-system'];
/** Total time one ADD/CHECK may spend reaching the agent, retries included. */
export const DEFAULT_AGENT_TIMEOUT_MS = 5_000;
export const MAX_AGENT_TIMEOUT_MS = 60_000;
/**
 * The runtime writes the config and closes stdin at once; these only bound a runtime that never does (or
 * sends far more than a config). The environment variables exist for tests and for debugging a runtime.
 */
export const STDIN_TIMEOUT_ENV = 'WEFT_CNI_STDIN_TIMEOUT_MS';
export const DEFAULT_STDIN_TIMEOUT_MS = 5_000;
export const MAX_STDIN_TIMEOUT_MS = 60_000;
export const STDIN_MAX_BYTES_ENV = 'WEFT_CNI_STDIN_MAX_BYTES';
export const DEFAULT_STDIN_MAX_BYTES = 4 * 1024 * 1024;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The weft-cni entry of a conflist, as the runtime sends it on stdin (name and cniVersion injected). */
export interface PluginConfig {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  readonly cniSocket: string;
  readonly excludeNamespaces: readonly string[];
  readonly agentTimeoutMs: number;
  readonly logFile: string | undefined;
  readonly logLevel: LogLevel;
  /** The previous plugin's result, untouched; undefined when the runtime sent none. */
  readonly prevResult: Record<string, unknown> | undefined;
  /** The stdin object without `prevResult`, forwarded to the agent as `config`. */
  readonly raw: Record<string, unknown>;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON-decodes stdin into an object or throws a decode error (CNI code 6). */
export function decodeStdin(stdin: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin);
  } catch (err) {
    throw new WeftError('ERR_WEFT_CNI_CONFIG_DECODE', { reason: (err as Error).message }, { cause: err });
  }
  if (!isPlainObject(parsed)) {
    throw new WeftError('ERR_WEFT_CNI_CONFIG_DECODE', { reason: `expected a JSON object, got ${describe(parsed)}` });
  }
  return parsed;
}

/**
 * Validates the decoded stdin; throws CNI code 1 (version) or 7 (invalid config). With `dropBadPrevResult`
 * (DEL) a malformed prevResult is dropped instead: DEL must clean up whatever it can, and the agent
 * finds the pod by container ID without it.
 */
export function parsePluginConfig(obj: Record<string, unknown>, opts: { dropBadPrevResult?: boolean } = {}): PluginConfig {
  const version = obj.cniVersion;
  if (typeof version !== 'string' || version === '') invalid('cniVersion must be a non-empty string');
  if (!isSupportedVersion(version)) {
    throw new WeftError('ERR_WEFT_CNI_VERSION_INCOMPATIBLE', { version: String(version).slice(0, 32), supported: SUPPORTED_CNI_VERSIONS.join(', ') });
  }
  const name = obj.name;
  if (typeof name !== 'string') invalid('name must be a string');
  const type = obj.type ?? 'weft-cni';
  if (typeof type !== 'string') invalid('type must be a string');

  const cniSocket = obj.cni_socket ?? DEFAULT_CNI_SOCKET;
  if (typeof cniSocket !== 'string' || cniSocket === '' || cniSocket.includes('\0')) invalid('cni_socket must be a non-empty path');

  const exclude = obj.exclude_namespaces ?? DEFAULT_EXCLUDE_NAMESPACES;
  if (!Array.isArray(exclude) || !exclude.every((n): n is string => typeof n === 'string')) {
    invalid('exclude_namespaces must be an array of namespace names');
  }

  const timeout = obj.agent_timeout_ms ?? DEFAULT_AGENT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_AGENT_TIMEOUT_MS) {
    invalid(`agent_timeout_ms must be an integer between 1 and ${MAX_AGENT_TIMEOUT_MS}`);
  }

  const logFile = obj.log_file;
  if (logFile !== undefined && (typeof logFile !== 'string' || logFile === '' || logFile.includes('\0'))) invalid('log_file must be a path');
  const logLevel = obj.log_level ?? 'warn';
  if (typeof logLevel !== 'string' || !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    invalid(`log_level must be one of ${LOG_LEVELS.join(', ')}`);
  }

  let prev = obj.prevResult;
  if (prev !== undefined && prev !== null) {
    try {
      checkPrevResult(prev);
    } catch (err) {
      if (opts.dropBadPrevResult !== true) throw err;
      prev = undefined;
    }
  }
  const raw: Record<string, unknown> = { ...obj };
  delete raw.prevResult;

  return {
    cniVersion: version,
    name,
    type,
    cniSocket,
    excludeNamespaces: exclude,
    agentTimeoutMs: timeout,
    logFile,
    logLevel: logLevel as LogLevel,
    prevResult: isPlainObject(prev) ? prev : undefined,
    raw,
  };
}

/**
 * weft-cni never interprets the previous result beyond passing it on (and the agent reads its IPs), but a
 * result that is not shaped like a CNI result means the chain before us is broken: say so rather than
 * pass garbage to the runtime.
 */
function checkPrevResult(prev: unknown): asserts prev is Record<string, unknown> {
  if (!isPlainObject(prev)) invalid(`prevResult must be a CNI result object, got ${describe(prev)}`);
  for (const key of ['interfaces', 'ips', 'routes'] as const) {
    if (prev[key] !== undefined && !Array.isArray(prev[key])) invalid(`prevResult.${key} must be an array`);
  }
  if (Array.isArray(prev.ips) && !prev.ips.every((ip) => isPlainObject(ip) && typeof ip.address === 'string')) {
    invalid('prevResult.ips[] must be objects with an address');
  }
  if (prev.dns !== undefined && !isPlainObject(prev.dns)) invalid('prevResult.dns must be an object');
}

function invalid(reason: string): never {
  throw new WeftError('ERR_WEFT_CNI_CONFIG_INVALID', { reason });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** The stdin bounds from the plugin's environment; a malformed value is refused (CNI code 4), not ignored. */
export function stdinBoundsOf(env: Readonly<Record<string, string | undefined>>): { timeoutMs: number; maxBytes: number } {
  return {
    timeoutMs: envInt(env, STDIN_TIMEOUT_ENV, DEFAULT_STDIN_TIMEOUT_MS, MAX_STDIN_TIMEOUT_MS),
    maxBytes: envInt(env, STDIN_MAX_BYTES_ENV, DEFAULT_STDIN_MAX_BYTES, DEFAULT_STDIN_MAX_BYTES),
  };
}

function envInt(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new WeftError('ERR_WEFT_CNI_ENV_INVALID', { reason: `${name} must be an integer in [1, ${max}], got "${raw.slice(0, 32)}"` });
  return n;
}
