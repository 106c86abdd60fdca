import { createRequire } from 'node:module';
import type { stringify as Stringify } from 'yaml';
import type { Argv } from 'yargs';
import { EXIT_OK, asWeftError, exitStatusOf, formatError } from './exit.js';

/**
 * How commands print data and errors. Data commands take `--output json|yaml|table` (table by default);
 * errors print what was wrong and what to do. Exit status: 0 ok, 1 a check or command failed, 2 bad usage
 * or missing privileges.
 */
export type OutputFormat = 'json' | 'yaml' | 'table';

export function withOutputOption<T>(y: Argv<T>): Argv<T & { output: OutputFormat }> {
  return y.option('output', {
    alias: 'o',
    choices: ['json', 'yaml', 'table'] as const,
    default: 'table' as const,
    describe: 'Output format',
  });
}

/** A sink for command output; tests pass their own to capture it. */
export interface Printer {
  out(line: string): void;
  err(line: string): void;
}

export const consolePrinter: Printer = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const requireCjs = createRequire(import.meta.url);
let yamlStringify: typeof Stringify | undefined;

/** `yaml` loads on first use (synchronously, so printData stays sync): most runs print tables or help. */
function toYaml(data: unknown): string {
  yamlStringify ??= (requireCjs('yaml') as { stringify: typeof Stringify }).stringify;
  return yamlStringify(data);
}

/** Prints `data` as JSON or YAML, or as an aligned table of `rows` under `headers`. */
export function printData(printer: Printer, format: OutputFormat, data: unknown, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  if (format === 'json') return printer.out(JSON.stringify(data, null, 2));
  if (format === 'yaml') return printer.out(toYaml(data).trimEnd());
  for (const line of formatTable(headers, rows)) printer.out(line);
}

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ').trimEnd());
}

/** Prints an error (its code, what was wrong, then what to do) and returns the exit status it maps to. */
export function reportError(printer: Printer, err: unknown): number {
  const weft = asWeftError(err);
  printer.err(formatError(weft));
  return exitStatusOf(weft);
}

/**
 * Runs a command body and sets the process exit status from its result or error, so that every command
 * reports errors the same way and yargs never prints a stack trace.
 */
export async function runCommand(body: () => Promise<number | void>, printer: Printer = consolePrinter): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? EXIT_OK;
  } catch (err) {
    process.exitCode = reportError(printer, err);
  }
}
