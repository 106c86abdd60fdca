/**
 * Runs one of bench/'s programs as `npm run bench` does (the built dist/bench/<name>/main.js), briefly, with
 * its result written to a temporary file, and checks the run record every result carries. The smoke tests
 * use it to catch a benchmark that stops building or running; they enforce no performance target.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run } from '../../lab/command.js';
import { describeRequiring } from './root.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The allocator settings of the image (Dockerfile), which scripts/bench.mjs gives every bench. */
const IMAGE_GLIBC_TUNABLES = /^ENV GLIBC_TUNABLES=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
const BENCH_SCRIPT = join(ROOT, 'scripts', 'bench.mjs');

export interface BenchResult {
  readonly benchmark: string;
  readonly date: string;
  readonly machine: { readonly cpuModel: string; readonly cores: number; readonly node: string; readonly glibcTunables: string | null };
  readonly load: { readonly before: number[]; readonly after: number[] };
  readonly loaded: boolean;
  readonly [key: string]: unknown;
}

/** Runs bench `name` with `args` (+ `--out <tmp>`) and returns its parsed result; fails with the bench's output. */
export async function runBench(name: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-smoke-'));
  try {
    const out = join(dir, `${name}.json`);
    // Through scripts/bench.mjs, as `npm run bench -- <name>`: it also sets the image's allocator settings.
    const r = await run([process.execPath, BENCH_SCRIPT, name, ...args, '--out', out], {
      env: { ...process.env, ...env },
      allowFailure: true,
      timeoutMs,
    });
    expect(r.code, `bench ${name} exited ${r.code}:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expectRunRecord(result, name);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What bench/lib/results-file.ts records about every run: the machine and the load before and after. */
export function expectRunRecord(result: BenchResult, name: string): void {
  expect(result.benchmark).toBe(name);
  expect(Number.isNaN(Date.parse(result.date))).toBe(false);
  expect(result.machine.cpuModel.length).toBeGreaterThan(0);
  expect(result.machine.cores).toBeGreaterThan(0);
  expect(IMAGE_GLIBC_TUNABLES).toBeDefined();
  expect(result.machine.glibcTunables).toBe(process.env.GLIBC_TUNABLES ?? IMAGE_GLIBC_TUNABLES);
  expect(result.load.before).toHaveLength(3);
  expect(result.load.after).toHaveLength(3);
  expect(result.loaded).toBe(result.load.before[0] > 2 || result.load.after[0] > 2);
}

/** `describe` that needs `programs` on PATH (scripts/setup installs them); see root.ts for why a missing one fails. */
export function describeWithPrograms(programs: readonly string[], title: string, body: () => void): void {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  const missing = programs.filter((p) => !dirs.some((d) => existsSync(join(d, p))));
  describeRequiring(missing.length === 0, `${missing.join(', ')} not on PATH: run scripts/setup`, 'WEFT_TEST_SKIP_TOOLS', title, body);
}
