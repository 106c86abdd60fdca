import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isWeftError, WeftError } from '../../lib/errors/index.js';
import { chainWeft, hasWeft, LEGACY_UPGRADE_VERSION, parseCniConfig, unchainWeft, type WeftEntryOptions } from './conflist.js';
import { findPrimaryConfig, readConfig, removeFile, writeFileAtomic } from './files.js';
import { ContestTracker, type ContestOptions } from './contest.js';
import { readState, sha256, writeState } from './state.js';
import { writeStatus } from './status.js';
import { otherWriterOf, type OtherWriter } from './other-writer.js';

export interface ReconcileOptions {
  readonly confDir: string;
  readonly entry: WeftEntryOptions;
}

export type ReconcileResult =
  | { readonly status: 'no-config' }
  | { readonly status: 'unchanged'; readonly file: string }
  | { readonly status: 'chained'; readonly file: string; readonly from: string; readonly upgradedFrom?: string }
  | { readonly status: 'unparseable'; readonly file: string; readonly reason: string; readonly text: string };

/**
 * One repair pass: make the primary config (first by name) chain weft-cni exactly once. Idempotent: when
 * the file already holds the wanted entry nothing is written, so repeated passes (and other installers
 * watching the same directory) see no churn. A config it does not understand is reported and left
 * byte-for-byte alone.
 */
export function reconcile(opts: ReconcileOptions): ReconcileResult {
  const primary = findPrimaryConfig(opts.confDir);
  if (primary === undefined) return { status: 'no-config' };
  const path = join(opts.confDir, primary);
  const read = readConfig(path);
  if (read === undefined) return { status: 'no-config' }; // raced with a rename
  const { text, attrs } = read;
  let chained;
  let parsed;
  try {
    parsed = parseCniConfig(text, primary);
    chained = chainWeft(text, { ...opts.entry, file: primary });
  } catch (err) {
    if (isWeftError(err) && err.code === 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE') return { status: 'unparseable', file: primary, reason: err.message, text };
    throw err;
  }
  if (!chained.changed) return { status: 'unchanged', file: primary };

  const target = chained.converted ? primary.replace(/\.(conf|json)$/, '.conflist') : primary;
  // A config without weft's entry is someone else's original (first install, or the primary CNI just
  // rewrote it): remember its bytes for uninstall. One that has the entry with other options is ours.
  // Ours without a state file (deleted by hand): the best original left is the file minus weft's entry.
  const previous = readState(opts.confDir);
  const original = !hasWeft(parsed)
    ? { originalName: primary, originalText: text }
    : (previous ?? { originalName: primary, originalText: unchainWeft(text, primary).text });
  writeState(opts.confDir, { file: target, originalName: original.originalName, originalText: original.originalText, writtenSha256: sha256(chained.text) });
  writeFileAtomic(join(opts.confDir, target), chained.text, attrs);
  if (target !== primary) removeFile(path);
  return chained.upgradedFrom === undefined ? { status: 'chained', file: target, from: primary } : { status: 'chained', file: target, from: primary, upgradedFrom: chained.upgradedFrom };
}

/**
 * Warns about a legacy conf turned into a conflist at a newer version: the primary plugin is now run at
 * that version, which a plugin from before chaining may not speak (then pods fail at ADD with its error).
 */
export function warnIfUpgraded(log: Logger, r: ReconcileResult): void {
  if (r.status !== 'chained' || r.upgradedFrom === undefined) return;
  log.warn(
    { file: r.file, from: r.from, upgradedFrom: r.upgradedFrom, cniVersion: LEGACY_UPGRADE_VERSION },
    `converted ${r.from} (cniVersion ${r.upgradedFrom}, from before CNI chaining) into ${r.file} at cniVersion ${LEGACY_UPGRADE_VERSION} to chain weft-cni; ` +
      `its plugin now runs at ${LEGACY_UPGRADE_VERSION}. Uninstall restores ${r.from}. Better: have the primary CNI write a ${LEGACY_UPGRADE_VERSION}+ config.`,
  );
}

export interface WatchOptions extends ReconcileOptions {
  readonly log: Logger;
  /** Full re-check period, a safety net for missed inotify events (hostPath mounts, overlay quirks). */
  readonly pollMs: number;
  /** When another writer keeps removing weft-cni: see ContestTracker. */
  readonly contest: ContestOptions;
  /** Called after each pass with its outcome, e.g. to re-check the plugin binary and report readiness. */
  readonly afterPass?: (result: ReconcileResult, contested: boolean) => void;
}

/**
 * Keeps the primary config chained: a pass at once, then on every change in the conf dir (debounced) and
 * every pollMs. Logs each outcome change once (an unparseable file is reported once per content, not at
 * every poll). A writer that keeps removing weft-cni is met with backoff and a warning, not a loop (see
 * ContestTracker); the daemon's view is kept in the status file (status.ts). Returns a stop function.
 */
export function watchAndRepair(opts: WatchOptions): { stop: () => void; lastResult: () => ReconcileResult | undefined } {
  const log = opts.log;
  const contest = new ContestTracker(opts.contest);
  let last: ReconcileResult | undefined;
  let lastKey = '';
  let debounce: NodeJS.Timeout | undefined;
  let stopped = false;
  /** weft-cni has been in place once: from then on, a pass that has to chain it again is a revert. */
  let everChained = false;
  /** While contested, no pass before this time (the backoff); a timer runs the pass then. */
  let holdUntil = 0;
  let holdTimer: NodeJS.Timeout | undefined;
  let status = { state: '', key: '', since: '' };
  let lastContest: { reverts: number; err: WeftError; writer?: OtherWriter } | undefined;

  const onRevert = (r: Extract<ReconcileResult, { status: 'chained' }>, now: number): void => {
    const v = contest.revert(now);
    if (!v.contested) {
      log.info({ file: r.file, from: r.from, status: r.status, reverts: v.reverts }, 'weft-cni was taken out of the primary CNI config; chained it again');
      return;
    }
    holdUntil = now + v.holdMs;
    const err = new WeftError('ERR_WEFT_CNI_INSTALL_CONTESTED', { file: r.file, reverts: v.reverts, windowS: opts.contest.windowMs / 1000, delayMs: v.holdMs });
    // The file still holds the other writer's plugins (weft-cni was only added back): name it when known.
    const writer = otherWriterOf(readConfig(join(opts.confDir, r.file))?.text ?? '');
    log.warn(
      { file: r.file, status: 'contested', reverts: v.reverts, nextRepairInMs: v.holdMs, code: err.code, ...(writer ? { writer: writer.name, setting: writer.setting } : {}) },
      `${err.message}. ${writer ? `The other writer is ${writer.name}: set ${writer.setting}. ` : ''}${err.hint}`,
    );
    lastContest = { reverts: v.reverts, err, ...(writer ? { writer } : {}) };
  };

  const writeStatusOnChange = (r: ReconcileResult): void => {
    const contested = contest.isContested ? lastContest : undefined;
    const state = contested !== undefined ? 'contested' : r.status === 'unchanged' ? 'chained' : r.status;
    const file = 'file' in r ? r.file : undefined;
    const key = `${state}:${file ?? ''}:${contested?.reverts ?? ''}`;
    if (key === status.key) return;
    const since = state === status.state ? status.since : new Date().toISOString();
    status = { state, key, since };
    try {
      writeStatus(opts.confDir, {
        state,
        ...(file !== undefined ? { file } : {}),
        ...(contested !== undefined ? { reverts: contested.reverts, code: contested.err.code, message: contested.err.message, hint: contested.err.hint } : {}),
        ...(contested?.writer !== undefined ? { writer: contested.writer.name, setting: contested.writer.setting } : {}),
        ...(r.status === 'unparseable' ? { message: r.reason } : {}),
        since,
      });
    } catch (e) {
      log.error({ err: e }, 'cannot write the install-cni status file');
    }
  };

  const pass = (): void => {
    if (stopped) return;
    const now = Date.now();
    if (now < holdUntil) {
      holdTimer ??= setTimeout(() => {
        holdTimer = undefined;
        pass();
      }, holdUntil - now);
      return;
    }
    try {
      const r = reconcile(opts);
      last = r;
      const key = r.status === 'unparseable' ? `${r.status}:${r.file}:${sha256(r.text)}` : `${r.status}:${'file' in r ? r.file : ''}`;
      if (r.status === 'chained') {
        if (everChained) onRevert(r, now);
        else log.info({ file: r.file, from: r.from, status: r.status }, 'chained weft-cni into the primary CNI config');
        warnIfUpgraded(log, r);
        everChained = true;
      } else {
        if (r.status === 'unchanged') {
          everChained = true;
          if (contest.settled(now)) log.info({ file: r.file, status: 'chained' }, `weft-cni stayed chained for ${opts.contest.windowMs} ms: the other writer stopped; repairs are immediate again`);
        }
        if (key !== lastKey) {
          if (r.status === 'unparseable') log.error({ file: r.file, status: r.status, code: 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE' }, r.reason);
          else if (r.status === 'no-config') log.warn({ dir: opts.confDir, status: r.status }, 'no CNI config yet; waiting for the primary CNI plugin to write one');
          else log.info({ file: r.file, status: r.status }, 'weft-cni is chained');
        }
      }
      lastKey = key;
      writeStatusOnChange(r);
      opts.afterPass?.(r, contest.isContested);
    } catch (err) {
      log.error({ err }, 'repair pass failed; retrying at the next change or poll');
    }
  };
  const schedule = (): void => {
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(pass, 50);
  };

  let watcher: FSWatcher | undefined;
  const startWatch = (): void => {
    try {
      watcher = watch(opts.confDir, schedule);
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined; // the dir went away; the poll recreates the watch when it is back
      });
    } catch {
      watcher = undefined;
    }
  };
  startWatch();
  const poll = setInterval(() => {
    if (watcher === undefined) startWatch();
    pass();
  }, opts.pollMs);
  pass();
  return {
    stop: () => {
      stopped = true;
      clearInterval(poll);
      if (debounce !== undefined) clearTimeout(debounce);
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      watcher?.close();
    },
    lastResult: () => last,
  };
}
