import { WeftError } from '../../lib/errors/index.js';
import { DEFAULT_CNI_SOCKET, DEFAULT_EXCLUDE_NAMESPACES, SUPPORTED_CNI_VERSIONS } from '../plugin-contract.js';

/** The `type` of weft's entry, which is also the file name of the plugin in the CNI bin dir. */
export const WEFT_PLUGIN_TYPE = 'weft-cni';

/** What install-cni puts into weft-cni's conflist entry (the plugin reads these, see native/main.c). */
export interface WeftEntryOptions {
  readonly cniSocket?: string;
  readonly excludeNamespaces?: readonly string[];
  readonly agentTimeoutMs?: number;
  readonly logFile?: string;
  readonly logLevel?: string;
}

export function weftEntry(opts: WeftEntryOptions = {}): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    type: WEFT_PLUGIN_TYPE,
    cni_socket: opts.cniSocket ?? DEFAULT_CNI_SOCKET,
    exclude_namespaces: [...(opts.excludeNamespaces ?? DEFAULT_EXCLUDE_NAMESPACES)],
  };
  if (opts.agentTimeoutMs !== undefined) entry.agent_timeout_ms = opts.agentTimeoutMs;
  if (opts.logFile !== undefined) entry.log_file = opts.logFile;
  if (opts.logLevel !== undefined) entry.log_level = opts.logLevel;
  return entry;
}

/** A CNI network config file as install-cni understands it. */
export interface ParsedConfig {
  /** `conf`: a single-plugin network config; `conflist`: a network configuration list. */
  readonly kind: 'conf' | 'conflist';
  readonly doc: Record<string, unknown>;
  /** The plugin entries (for a conf, the conf itself). */
  readonly plugins: readonly Record<string, unknown>[];
  /** A conf from before chaining: its cniVersion (`none` when it declares none). */
  readonly legacyVersion?: string;
}

/**
 * Single-plugin configs from before chaining existed (0.3.0). libcni reads a conf without cniVersion as
 * 0.1.0. Istio's and Linkerd's installers turn such a conf into a conflist at a chainable version rather
 * than leave the node without capture; install-cni does the same (see chainWeft).
 */
const LEGACY_CONF_VERSIONS: readonly string[] = ['0.1.0', '0.2.0'];
/**
 * The version a legacy conf is upgraded to: the first with chaining and prevResult, so the one a plugin
 * written in the 0.x days most likely speaks (every containernetworking plugin since v0.7 does).
 */
export const LEGACY_UPGRADE_VERSION = '0.3.0';

/**
 * Parses a CNI config file, refusing (ERR_WEFT_CNI_INSTALL_UNPARSEABLE) anything install-cni cannot
 * change safely: not JSON, not an object, plugins that are not objects with a `type`, a conflist without a
 * version weft-cni speaks, or a conf at a version that is neither that nor legacy (0.1.0, 0.2.0, none).
 * A file refused here is never written.
 */
export function parseCniConfig(text: string, file: string): ParsedConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw unparseable(file, `not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw unparseable(file, 'not a JSON object');
  if (doc.plugins !== undefined) {
    if (!Array.isArray(doc.plugins) || doc.plugins.length === 0) throw unparseable(file, '"plugins" is not a non-empty list');
    const plugins = doc.plugins as unknown[];
    plugins.forEach((p, i) => {
      if (!isObject(p) || typeof p.type !== 'string' || p.type === '') throw unparseable(file, `plugins[${i}] has no "type"`);
    });
    checkVersion(doc, file);
    return { kind: 'conflist', doc, plugins: plugins as Record<string, unknown>[] };
  }
  if (typeof doc.type !== 'string' || doc.type === '') throw unparseable(file, 'neither "plugins" (conflist) nor "type" (conf)');
  if (doc.cniVersion === undefined) return { kind: 'conf', doc, plugins: [doc], legacyVersion: 'none' };
  if (typeof doc.cniVersion === 'string' && LEGACY_CONF_VERSIONS.includes(doc.cniVersion)) return { kind: 'conf', doc, plugins: [doc], legacyVersion: doc.cniVersion };
  checkVersion(doc, file);
  return { kind: 'conf', doc, plugins: [doc] };
}

/** The versions a conflist declares: `cniVersion`, and `cniVersions` (CNI 1.1) when present. */
function checkVersion(doc: Record<string, unknown>, file: string): void {
  const declared: unknown[] = [doc.cniVersion, ...(Array.isArray(doc.cniVersions) ? (doc.cniVersions as unknown[]) : [])].filter((v) => v !== undefined);
  if (declared.length === 0) throw unparseable(file, 'no "cniVersion"');
  if (!declared.some((v) => typeof v === 'string' && SUPPORTED_CNI_VERSIONS.includes(v))) {
    throw unparseable(file, `cniVersion ${JSON.stringify(declared)} is not one weft-cni can chain into (${SUPPORTED_CNI_VERSIONS.join(', ')})`);
  }
}

export function hasWeft(parsed: ParsedConfig): boolean {
  return parsed.kind === 'conflist' && parsed.plugins.some((p) => p.type === WEFT_PLUGIN_TYPE);
}

export interface ChainResult {
  /** The conflist text to write; the input text itself when nothing changes. */
  readonly text: string;
  /** False when the input already holds exactly the wanted entry, last: re-running is a byte-identical no-op. */
  readonly changed: boolean;
  /** True when the input was a single-plugin `.conf` turned into a conflist. */
  readonly converted: boolean;
  /** For a legacy conf: the cniVersion it had (`none` when it had none); the conflist has LEGACY_UPGRADE_VERSION. */
  readonly upgradedFrom?: string;
}

/**
 * Chains weft-cni into a CNI config: a conf becomes a conflist of one plugin (as libcni's
 * ConfListFromConf does; a legacy conf at LEGACY_UPGRADE_VERSION, keeping its name), then weft's entry is appended last — after the primary plugin and its chained
 * plugins (portmap, bandwidth, ...) so that prevResult holds the pod's IPs. An existing weft entry is
 * replaced when its options differ and left alone (text unchanged) when they match.
 */
export function chainWeft(text: string, opts: WeftEntryOptions & { file?: string } = {}): ChainResult {
  const parsed = parseCniConfig(text, opts.file ?? '<config>');
  const wanted = weftEntry(opts);
  if (parsed.kind === 'conflist') {
    const weftAt = parsed.plugins.flatMap((p, i) => (p.type === WEFT_PLUGIN_TYPE ? [i] : []));
    if (weftAt.length === 1 && weftAt[0] === parsed.plugins.length - 1 && deepEqual(parsed.plugins[weftAt[0]], wanted)) {
      return { text, changed: false, converted: false };
    }
    const plugins = parsed.plugins.filter((p) => p.type !== WEFT_PLUGIN_TYPE);
    return { text: render({ ...parsed.doc, plugins: [...plugins, wanted] }), changed: true, converted: false };
  }
  const { cniVersion, name } = parsed.doc;
  const listName = typeof name === 'string' ? name : 'weft-chained';
  if (parsed.legacyVersion !== undefined) {
    // The runtime hands each plugin the list's cniVersion; the old one left inside the entry would only mislead.
    const { cniVersion: _old, ...plugin } = parsed.doc;
    const list = { cniVersion: LEGACY_UPGRADE_VERSION, name: listName, plugins: [plugin, wanted] };
    return { text: render(list), changed: true, converted: true, upgradedFrom: parsed.legacyVersion };
  }
  const list: Record<string, unknown> = { cniVersion, name: listName, plugins: [parsed.doc, wanted] };
  return { text: render(list), changed: true, converted: true };
}

/** Removes weft's entries from a conflist; `changed` is false when there were none. */
export function unchainWeft(text: string, file = '<config>'): { text: string; changed: boolean } {
  const parsed = parseCniConfig(text, file);
  if (!hasWeft(parsed)) return { text, changed: false };
  return { text: render({ ...parsed.doc, plugins: parsed.plugins.filter((p) => p.type !== WEFT_PLUGIN_TYPE) }), changed: true };
}

/** Conflists are written as 2-space-indented JSON with a final newline, as most CNI installers do. */
export function render(doc: Record<string, unknown>): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

function unparseable(file: string, reason: string): WeftError {
  return new WeftError('ERR_WEFT_CNI_INSTALL_UNPARSEABLE', { file, reason });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
