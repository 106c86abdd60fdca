import { setTimeout as sleep } from 'node:timers/promises';
import { formatError, asWeftError } from '../exit.js';
import type { Printer } from '../output.js';

/**
 * `--watch` for the commands that read Prometheus: ask again every `intervalMs` and print the new answer
 * until interrupted (SIGINT/SIGTERM end it with status 0). On a terminal the screen is redrawn; piped, each
 * answer follows the last (as JSON: one document per line). The first round's error ends the command, as
 * without --watch; a later one (Prometheus restarting) is printed and the next round tries again.
 */
export interface WatchOptions {
  readonly intervalMs: number;
  readonly printer: Printer;
  /** Redraw in place (stdout is a terminal and the output a table). */
  readonly redraw: boolean;
  /** Ends the loop (tests); SIGINT and SIGTERM do too. */
  readonly signal?: AbortSignal;
}

const CLEAR = '\x1b[H\x1b[2J';

export async function watchLoop(round: () => Promise<readonly string[]>, o: WatchOptions): Promise<void> {
  const stop = new AbortController();
  const end = (): void => stop.abort();
  process.once('SIGINT', end);
  process.once('SIGTERM', end);
  o.signal?.addEventListener('abort', end, { once: true });
  try {
    for (let first = true; !stop.signal.aborted; first = false) {
      let lines: readonly string[];
      try {
        lines = await round();
      } catch (err) {
        if (first) throw err;
        o.printer.err(formatError(asWeftError(err)));
        lines = [];
      }
      if (lines.length > 0) {
        if (o.redraw) o.printer.out(`${CLEAR}${lines.join('\n')}`);
        else for (const line of lines) o.printer.out(line);
      }
      await sleep(o.intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', end);
    process.off('SIGTERM', end);
    o.signal?.removeEventListener('abort', end);
  }
}
