import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/bench/lib/ → the repository root.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// Every bench imports this module before it starts work, so this is the load average at the start of
// the run: with the one read at the end, it says whether the numbers may be quoted.
const loadBefore = loadavg();

/** Above this 1-minute load average (on these 2-core machines) a result is marked loaded and not quoted. */
export const QUOTABLE_LOAD = 2;

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * What every result records about the run besides its numbers: when, on which CPU, and the load average
 * before and after, with `loaded` set when either 1-minute value is above QUOTABLE_LOAD.
 */
export function runRecord(): { date: string; machine: { cpuModel: string; cores: number; node: string; glibcTunables: string | null }; load: { before: number[]; after: number[] }; loaded: boolean } {
  const after = loadavg();
  return {
    date: new Date().toISOString(),
    // glibcTunables: the allocator settings of the run (scripts/bench.mjs sets the image's).
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, glibcTunables: process.env.GLIBC_TUNABLES ?? null },
    load: { before: loadBefore.map(round2), after: after.map(round2) },
    loaded: loadBefore[0] > QUOTABLE_LOAD || after[0] > QUOTABLE_LOAD,
  };
}

/**
 * Writes a bench's result as pretty JSON to bench/results/<benchmark>.json (the committed record of a
 * full run), or to `out` when given (`--out`: short or trial runs that must not replace the record),
 * with the run record (date, machine, load before/after, loaded) first. A result's own `machine` fields
 * are kept beside the common ones. Returns the path written.
 */
export function writeBenchResult(benchmark: string, result: Record<string, unknown>, out?: string): string {
  const file = out ? resolve(out) : join(repoRoot, 'bench', 'results', `${benchmark}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const run = runRecord();
  const ownMachine = (result.machine ?? {}) as Record<string, unknown>;
  const record = { benchmark, ...run, ...result, machine: { ...run.machine, ...ownMachine } };
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  if (run.loaded) console.log(`load average ${run.load.before[0]} → ${run.load.after[0]} (> ${QUOTABLE_LOAD}): this result is marked loaded and must not be quoted`);
  return file;
}
