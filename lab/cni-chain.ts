import { join } from 'node:path';
import { WeftError } from '../lib/errors/index.js';
import type { Conflist, PluginEntry } from './cni-conflist.js';

/**
 * Runs a conflist as a CNI 1.0 runtime does ("Network configuration lists", CNI spec section 3/4):
 * ADD runs each plugin in order, handing each the previous plugin's result as `prevResult`; DEL runs them
 * in reverse with the cached ADD result; CHECK in order with it. Each plugin gets its entry plus the
 * list's `name` and `cniVersion`, and `runtimeConfig` for the capabilities it declares. How a plugin is
 * executed (in which namespace) is the caller's `invoke`, so the chaining is testable without root.
 */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface CniRuntimeArgs {
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAMESPACE / K8S_POD_NAME / K8S_POD_UID. */
  readonly args: Readonly<Record<string, string>>;
  /** Directories searched for the plugin executables (CNI_PATH). */
  readonly binDirs: readonly string[];
  /** Values for declared capabilities, e.g. `{ portMappings: [] }`. */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
}

export interface PluginInvocation {
  readonly plugin: string;
  readonly path: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

export interface PluginOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type PluginInvoker = (call: PluginInvocation) => Promise<PluginOutcome>;

export type CniResult = Record<string, unknown>;

export function cniArgsString(args: Readonly<Record<string, string>>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

export function pluginEnv(command: CniCommand | 'VERSION', rt: CniRuntimeArgs): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_ARGS: cniArgsString(rt.args),
    CNI_PATH: rt.binDirs.join(':'),
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  };
}

/** The stdin a plugin gets: its entry, the list's name and version, runtimeConfig, prevResult. */
export function pluginStdin(list: Conflist, entry: PluginEntry, rt: CniRuntimeArgs, prevResult: CniResult | undefined): string {
  const conf: Record<string, unknown> = { ...entry, cniVersion: list.cniVersion, name: list.name };
  const caps = entry.capabilities as Record<string, boolean> | undefined;
  if (caps && rt.capabilityArgs) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(caps)) {
      if (on && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  }
  delete conf.capabilities;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return JSON.stringify(conf);
}

/** Finds `type` in the first bin dir that holds it (the caller's `exists` so tests need no files). */
export function locatePlugin(type: string, binDirs: readonly string[], exists: (p: string) => boolean): string {
  for (const dir of binDirs) {
    const p = join(dir, type);
    if (exists(p)) return p;
  }
  throw new WeftError('ERR_WEFT_LAB_TOOL_MISSING', { tool: `CNI plugin ${type}`, path: binDirs.join(':') });
}

export interface ChainDeps {
  readonly invoke: PluginInvoker;
  readonly exists: (path: string) => boolean;
  /** Names the pod in errors. */
  readonly podRef: string;
}

function parseError(plugin: string, command: CniCommand, out: PluginOutcome, podRef: string): WeftError {
  let reason = out.stderr.trim() || `exit code ${out.code}`;
  try {
    const e = JSON.parse(out.stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.msg === 'string') reason = `code ${e.code ?? '?'}: ${e.msg}${e.details ? ` (${e.details})` : ''}`;
  } catch {
    if (out.stdout.trim()) reason = out.stdout.trim().slice(0, 300);
  }
  return new WeftError('ERR_WEFT_LAB_CNI_FAILED', { command, plugin, pod: podRef, reason });
}

async function invokeOne(
  command: CniCommand,
  list: Conflist,
  entry: PluginEntry,
  rt: CniRuntimeArgs,
  prev: CniResult | undefined,
  deps: ChainDeps,
): Promise<CniResult | undefined> {
  const path = locatePlugin(entry.type, rt.binDirs, deps.exists);
  const out = await deps.invoke({ plugin: entry.type, path, env: pluginEnv(command, rt), stdin: pluginStdin(list, entry, rt, prev) });
  if (out.code !== 0) throw parseError(entry.type, command, out, deps.podRef);
  if (command !== 'ADD') return undefined;
  try {
    return JSON.parse(out.stdout) as CniResult;
  } catch {
    throw new WeftError('ERR_WEFT_LAB_CNI_FAILED', { command, plugin: entry.type, pod: deps.podRef, reason: `result is not JSON: ${out.stdout.slice(0, 200)}` });
  }
}

/** ADD in order, chaining each result into the next plugin's prevResult; returns the final result. */
export async function chainAdd(list: Conflist, rt: CniRuntimeArgs, deps: ChainDeps): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const entry of list.plugins) prev = await invokeOne('ADD', list, entry, rt, prev, deps);
  if (prev === undefined) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: 'conflist without plugins' });
  return prev;
}

/** CHECK in order, each with the cached final ADD result. */
export async function chainCheck(list: Conflist, rt: CniRuntimeArgs, cached: CniResult, deps: ChainDeps): Promise<void> {
  for (const entry of list.plugins) await invokeOne('CHECK', list, entry, rt, cached, deps);
}

/**
 * DEL in reverse order with the cached ADD result (when known). Every plugin is called even if one
 * fails, so that one plugin's error does not leak another's resources; the first error is thrown after.
 */
export async function chainDel(list: Conflist, rt: CniRuntimeArgs, cached: CniResult | undefined, deps: ChainDeps): Promise<void> {
  let first: Error | undefined;
  for (const entry of [...list.plugins].reverse()) {
    try {
      await invokeOne('DEL', list, entry, rt, cached, deps);
    } catch (err) {
      first ??= err instanceof Error ? err : new Error(String(err));
    }
  }
  if (first !== undefined) throw first;
}

/** The pod's IPv4 address from a CNI result (`ips[].address` is CIDR notation). */
export function resultIPv4(result: CniResult): string | undefined {
  const ips = result.ips as { address?: string }[] | undefined;
  for (const ip of ips ?? []) {
    const addr = ip.address?.split('/')[0];
    if (addr && addr.includes('.')) return addr;
  }
  return undefined;
}
