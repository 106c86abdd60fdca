import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A pino logger whose JSON lines are parsed into `lines`, for tests that read what a component logged. */
export function jsonLinesLogger(): { readonly lines: Record<string, unknown>[]; readonly log: Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}
