import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/bench/lib/ → the repository root.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Writes a bench's result as pretty JSON to bench/results/<benchmark>.json (the committed record of a
 * full run), or to `out` when given (`--out`: short or trial runs that must not replace the record).
 * Returns the path written.
 */
export function writeBenchResult(benchmark: string, result: Record<string, unknown>, out?: string): string {
  const file = out ? resolve(out) : join(repoRoot, 'bench', 'results', `${benchmark}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ benchmark, ...result }, null, 2) + '\n');
  return file;
}
