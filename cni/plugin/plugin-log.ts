import { appendFileSync } from 'node:fs';
import type { LogLevel } from './config.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The plugin's log: one JSON line per event appended to `log_file` (or written to stderr, which runtimes
 * keep in their own logs). Synchronous on purpose: the process lives for one command and must not lose
 * the line that explains a failure when it exits right after. No pino: it would double startup time.
 */
export class PluginLog {
  private readonly min: number;
  private readonly bindings: Record<string, unknown> = {};

  constructor(
    level: LogLevel,
    private readonly file: string | undefined,
    private readonly stderr: (line: string) => void,
  ) {
    this.min = RANK[level];
  }

  bind(fields: Record<string, unknown>): void {
    Object.assign(this.bindings, fields);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: Record<string, unknown> | undefined): void {
    if (RANK[level] < this.min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, name: 'weft-cni', ...this.bindings, ...fields, msg }) + '\n';
    if (this.file === undefined) {
      this.stderr(line);
      return;
    }
    try {
      appendFileSync(this.file, line);
    } catch {
      // An unwritable log file must not fail the pod: fall back to stderr.
      this.stderr(line);
    }
  }
}
