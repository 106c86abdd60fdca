import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WeftError } from '../../lib/errors/index.js';
import { DEFAULT_CNI_SOCKET, DEFAULT_EXCLUDE_NAMESPACES, LOG_LEVELS, MAX_AGENT_TIMEOUT_MS } from '../plugin-contract.js';

// Every option of install-cni, as a flag or (for the DaemonSet manifest) an environment variable.
export const ENV = {
  binDir: 'WEFT_CNI_BIN_DIR',
  confDir: 'WEFT_CNI_CONF_DIR',
  pluginPath: 'WEFT_CNI_PLUGIN_PATH',
  socket: 'WEFT_CNI_SOCKET',
  excludeNamespaces: 'WEFT_CNI_EXCLUDE_NAMESPACES',
  agentTimeoutMs: 'WEFT_CNI_AGENT_TIMEOUT_MS',
  pluginLogFile: 'WEFT_CNI_PLUGIN_LOG_FILE',
  pluginLogLevel: 'WEFT_CNI_PLUGIN_LOG_LEVEL',
  pollMs: 'WEFT_CNI_POLL_MS',
  readyFile: 'WEFT_CNI_READY_FILE',
  contestWindowMs: 'WEFT_CNI_CONTEST_WINDOW_MS',
  contestBackoffMaxMs: 'WEFT_CNI_CONTEST_BACKOFF_MAX_MS',
  logLevel: 'WEFT_LOG_LEVEL',
} as const;

export const DEFAULT_BIN_DIR = '/opt/cni/bin';
export const DEFAULT_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_POLL_MS = 5_000;
/**
 * Another writer that takes weft-cni out this many times within the window is fighting over the file
 * (see install/contest.ts); re-chains then wait 1 s, 2 s, 4 s ... up to the cap. A window without a
 * revert ends it.
 */
export const CONTEST_THRESHOLD = 3;
export const DEFAULT_CONTEST_WINDOW_MS = 60_000;
export const CONTEST_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_CONTEST_BACKOFF_MAX_MS = 300_000;

export interface InstallOptions {
  readonly binDir: string;
  readonly confDir: string;
  /** The plugin to install: the weft-cni executable (dist/cni/weft-cni, built by scripts/build-cni.mjs). */
  readonly pluginPath: string;
  readonly socket: string;
  readonly excludeNamespaces: readonly string[];
  readonly agentTimeoutMs: number | undefined;
  readonly pluginLogFile: string | undefined;
  readonly pluginLogLevel: string | undefined;
  readonly pollMs: number;
  readonly contestWindowMs: number;
  readonly contestBackoffMaxMs: number;
  /** Exists exactly while weft-cni is chained (for an exec readiness probe: `test -f <file>`). */
  readonly readyFile: string | undefined;
  readonly logLevel: string;
  /** Remove weft from the node and exit. */
  readonly uninstall: boolean;
  /** One pass and exit (0 chained/unchanged, 3 unparseable config, 4 no config within waitMs). */
  readonly once: boolean;
  /** With --once: how long to wait for a primary config to appear. */
  readonly waitMs: number;
  /** Leave weft chained when the process is stopped (default: remove it on SIGTERM/SIGINT). */
  readonly keepOnExit: boolean;
  readonly help: boolean;
}

export const HELP = `install-cni: chains the weft-cni plugin into this node's CNI configuration and keeps it there.

Usage: node dist/cni/install.js [options]

  --cni-bin-dir <dir>           CNI plugin directory            (${ENV.binDir}, default ${DEFAULT_BIN_DIR})
  --cni-conf-dir <dir>          CNI config directory            (${ENV.confDir}, default ${DEFAULT_CONF_DIR})
  --plugin-path <file>          plugin to install as weft-cni   (${ENV.pluginPath}, default: weft-cni next to this script)
  --socket <path>               node agent CNI socket           (${ENV.socket}, default ${DEFAULT_CNI_SOCKET})
  --exclude-namespaces <a,b>    namespaces never asked about    (${ENV.excludeNamespaces}, default ${DEFAULT_EXCLUDE_NAMESPACES.join(',')})
  --agent-timeout-ms <ms>       plugin's bounded wait for the agent (${ENV.agentTimeoutMs}, plugin default 5000)
  --plugin-log-file <file>      plugin log file                 (${ENV.pluginLogFile})
  --plugin-log-level <level>    plugin log level                (${ENV.pluginLogLevel}, ${LOG_LEVELS.join('|')})
  --poll-ms <ms>                full re-check period            (${ENV.pollMs}, default ${DEFAULT_POLL_MS})
  --ready-file <file>           exists while weft-cni is chained (${ENV.readyFile}; readiness probe)
  --contest-window-ms <ms>      ${CONTEST_THRESHOLD} removals of weft-cni within this are a fight (${ENV.contestWindowMs}, default ${DEFAULT_CONTEST_WINDOW_MS})
  --contest-backoff-max-ms <ms> cap of the re-chain backoff in a fight (${ENV.contestBackoffMaxMs}, default ${DEFAULT_CONTEST_BACKOFF_MAX_MS})
  --log-level <level>           install-cni log level           (${ENV.logLevel}, default info)
  --once                        one pass, then exit: 0 chained, 3 config not understood, 4 no config
  --wait-ms <ms>                with --once: wait this long for a config to appear (default 0)
  --uninstall                   remove weft-cni from the configs and the bin dir, then exit
  --keep-on-exit                do not remove weft-cni on SIGTERM/SIGINT
  --help                        this text

Runs until stopped: it copies the plugin, waits for the primary config (first *.conflist/*.conf/*.json by
name), chains weft-cni last, repairs the file whenever another writer rewrites it (with backoff and a
warning when that writer keeps removing weft-cni, e.g. Cilium with cni.exclusive=true), and on SIGTERM
puts the original config bytes back and removes the plugin.
`;

export function parseInstallOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): InstallOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        'cni-bin-dir': { type: 'string' },
        'cni-conf-dir': { type: 'string' },
        'plugin-path': { type: 'string' },
        socket: { type: 'string' },
        'exclude-namespaces': { type: 'string' },
        'agent-timeout-ms': { type: 'string' },
        'plugin-log-file': { type: 'string' },
        'plugin-log-level': { type: 'string' },
        'poll-ms': { type: 'string' },
        'ready-file': { type: 'string' },
        'contest-window-ms': { type: 'string' },
        'contest-backoff-max-ms': { type: 'string' },
        'log-level': { type: 'string' },
        once: { type: 'boolean' },
        'wait-ms': { type: 'string' },
        uninstall: { type: 'boolean' },
        'keep-on-exit': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: (err as Error).message });
  }
  const str = (flag: string | undefined, envName: string): string | undefined => {
    const v = flag ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `${name} must be an integer in [${min}, ${max}], got "${raw}"` });
    return n;
  };
  const excludeRaw = str(values['exclude-namespaces'], ENV.excludeNamespaces);
  const pluginLogLevel = str(values['plugin-log-level'], ENV.pluginLogLevel);
  if (pluginLogLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(pluginLogLevel)) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `--plugin-log-level must be one of ${LOG_LEVELS.join(', ')}` });
  }
  return {
    binDir: str(values['cni-bin-dir'], ENV.binDir) ?? DEFAULT_BIN_DIR,
    confDir: str(values['cni-conf-dir'], ENV.confDir) ?? DEFAULT_CONF_DIR,
    pluginPath: str(values['plugin-path'], ENV.pluginPath) ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'weft-cni'),
    socket: str(values.socket, ENV.socket) ?? DEFAULT_CNI_SOCKET,
    excludeNamespaces: excludeRaw === undefined ? DEFAULT_EXCLUDE_NAMESPACES : excludeRaw.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    agentTimeoutMs: int('--agent-timeout-ms', str(values['agent-timeout-ms'], ENV.agentTimeoutMs), 1, MAX_AGENT_TIMEOUT_MS),
    pluginLogFile: str(values['plugin-log-file'], ENV.pluginLogFile),
    pluginLogLevel,
    pollMs: int('--poll-ms', str(values['poll-ms'], ENV.pollMs), 100, 3_600_000) ?? DEFAULT_POLL_MS,
    readyFile: str(values['ready-file'], ENV.readyFile),
    contestWindowMs: int('--contest-window-ms', str(values['contest-window-ms'], ENV.contestWindowMs), 100, 3_600_000) ?? DEFAULT_CONTEST_WINDOW_MS,
    contestBackoffMaxMs: int('--contest-backoff-max-ms', str(values['contest-backoff-max-ms'], ENV.contestBackoffMaxMs), 100, 3_600_000) ?? DEFAULT_CONTEST_BACKOFF_MAX_MS,
    logLevel: str(values['log-level'], ENV.logLevel) ?? 'info',
    uninstall: values.uninstall === true,
    once: values.once === true,
    waitMs: int('--wait-ms', values['wait-ms'], 0, 3_600_000) ?? 0,
    keepOnExit: values['keep-on-exit'] === true,
    help: values.help === true,
  };
}
