import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

const LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export interface LoggerOptions {
  /** The process name, e.g. `weft-node-agent`. */
  readonly name: string;
  /** Default `WEFT_LOG_LEVEL` or `info`; tests pass `silent`. */
  readonly level?: string;
  /** Destination; default stdout, written synchronously so nothing is lost when the process dies. */
  readonly destination?: NodeJS.WritableStream | number;
}

/**
 * The process's root logger: structured JSON, one line per event. Components take a child
 * (`log.child({ component: 'proxy.outbound' })`), built once at setup so bindings are serialised once.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.WEFT_LOG_LEVEL ?? 'info';
  const dest =
    typeof options.destination === 'object'
      ? options.destination
      : pino.destination({ dest: options.destination ?? 1, sync: true });
  return pino(
    {
      name: options.name,
      level: LEVELS.has(level) ? (level as LevelWithSilent) : 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    dest,
  );
}

/** A logger that drops everything; for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
