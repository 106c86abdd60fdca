// install-cni: the node agent DaemonSet's second container (`node dist/cni/install.js`). Installs the
// weft-cni plugin into the node's CNI bin dir, chains it into the primary CNI config, keeps it chained
// while other installers rewrite that file, and takes it all out again on SIGTERM or --uninstall.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createLogger, type Logger } from '../lib/telemetry/log.js';
import { WeftError, isWeftError } from '../lib/errors/index.js';
import { binaryStamp, installBinary } from './install/binary.js';
import { CONTEST_BACKOFF_INITIAL_MS, CONTEST_THRESHOLD, HELP, parseInstallOptions, type InstallOptions } from './install/options.js';
import { reconcile, warnIfUpgraded, watchAndRepair } from './install/repair.js';
import { uninstall } from './install/remove.js';
import type { WeftEntryOptions } from './install/conflist.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_UNPARSEABLE = 3;
const EXIT_NO_CONFIG = 4;

function entryOf(opts: InstallOptions): WeftEntryOptions {
  return {
    cniSocket: opts.socket,
    excludeNamespaces: opts.excludeNamespaces,
    ...(opts.agentTimeoutMs !== undefined ? { agentTimeoutMs: opts.agentTimeoutMs } : {}),
    ...(opts.pluginLogFile !== undefined ? { logFile: opts.pluginLogFile } : {}),
    ...(opts.pluginLogLevel !== undefined ? { logLevel: opts.pluginLogLevel } : {}),
  };
}

function removeAll(opts: InstallOptions, log: Logger): void {
  const r = uninstall(opts.confDir, opts.binDir);
  log.info({ restored: r.restored, unchained: r.unchained, binaryRemoved: r.binaryRemoved }, 'removed weft-cni from this node');
  if (r.skipped.length > 0) log.error({ files: r.skipped, code: 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE' }, 'left configs that mention weft-cni but cannot be parsed; remove the weft-cni entry by hand');
}

function putBinary(opts: InstallOptions, log: Logger): string | undefined {
  mkdirSync(opts.binDir, { recursive: true });
  if (installBinary(opts.pluginPath, opts.binDir)) log.info({ from: opts.pluginPath, binDir: opts.binDir }, 'installed the weft-cni plugin');
  return binaryStamp(opts.binDir);
}

function setReady(opts: InstallOptions, ready: boolean): void {
  if (opts.readyFile === undefined) return;
  if (ready && !existsSync(opts.readyFile)) writeFileSync(opts.readyFile, 'weft-cni chained\n');
  else if (!ready) rmSync(opts.readyFile, { force: true });
}

async function once(opts: InstallOptions, log: Logger): Promise<number> {
  putBinary(opts, log);
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    const r = reconcile({ confDir: opts.confDir, entry: entryOf(opts) });
    if (r.status === 'unparseable') {
      log.error({ file: r.file, status: r.status, code: 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE' }, r.reason);
      return EXIT_UNPARSEABLE;
    }
    if (r.status !== 'no-config') {
      log.info({ file: r.file, status: r.status }, 'weft-cni is chained');
      warnIfUpgraded(log, r);
      return EXIT_OK;
    }
    if (Date.now() >= deadline) {
      const err = new WeftError('ERR_WEFT_CNI_INSTALL_NO_CONFIG', { dir: opts.confDir, ms: opts.waitMs });
      log.error({ dir: opts.confDir, code: err.code, hint: err.hint }, err.message);
      return EXIT_NO_CONFIG;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function daemon(opts: InstallOptions, log: Logger): void {
  // The handlers come first: the first pass below chains weft-cni, and a SIGTERM that arrived before they
  // were installed would kill the process with weft chained and no cleanup (a pod deleted right after start).
  // They run from the event loop, so only once this function has returned and `watcher` is set.
  const stop = (signal: string): void => {
    watcher.stop();
    setReady(opts, false);
    if (opts.keepOnExit) log.info({ signal }, 'stopping; weft-cni stays chained (--keep-on-exit)');
    else {
      log.info({ signal }, 'stopping; removing weft-cni from this node');
      try {
        removeAll(opts, log);
      } catch (err) {
        log.error({ err }, 'uninstall failed');
        process.exit(EXIT_FAILED);
      }
    }
    process.exit(EXIT_OK);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  let stamp = putBinary(opts, log);
  const watcher = watchAndRepair({
    confDir: opts.confDir,
    entry: entryOf(opts),
    log,
    pollMs: opts.pollMs,
    contest: { threshold: CONTEST_THRESHOLD, windowMs: opts.contestWindowMs, backoffInitialMs: CONTEST_BACKOFF_INITIAL_MS, backoffMaxMs: opts.contestBackoffMaxMs },
    // A node upgrade or a cleanup script may remove or replace the plugin: put it back.
    afterPass: (result, contested) => {
      if (binaryStamp(opts.binDir) !== stamp) {
        log.warn({ binDir: opts.binDir }, 'the weft-cni plugin was removed or replaced; reinstalling');
        stamp = putBinary(opts, log);
      }
      // Not ready while another writer keeps removing weft-cni: pods may start uncaptured on this node.
      setReady(opts, !contested && (result.status === 'chained' || result.status === 'unchanged'));
    },
  });
}

async function run(): Promise<number | undefined> {
  let opts: InstallOptions;
  try {
    opts = parseInstallOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`install-cni: ${(err as Error).message}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const log = createLogger({ name: 'weft-install-cni', level: opts.logLevel }).child({ component: 'install-cni' });
  try {
    if (opts.uninstall) {
      removeAll(opts, log);
      return EXIT_OK;
    }
    if (opts.once) return await once(opts, log);
    daemon(opts, log);
    return undefined; // keeps running
  } catch (err) {
    log.error({ err, code: isWeftError(err) ? err.code : undefined }, isWeftError(err) ? `${err.message} — ${err.hint}` : 'install-cni failed');
    return EXIT_FAILED;
  }
}

void run().then((code) => {
  if (code !== undefined) process.exit(code);
});
