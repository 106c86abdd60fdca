/**
 * The real `weft` entry point (cli/main.ts) bundled with esbuild, so that process-level CLI tests need no
 * prior build. Bare imports stay external and resolve from node_modules, so the bundle lives under it.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Bundle {
  path: string;
  cleanup(): Promise<void>;
}

export async function bundleCli(tag: string): Promise<Bundle> {
  const out = join(ROOT, 'node_modules', '.cache', `weft-t-${tag}-${process.pid}`);
  await mkdir(out, { recursive: true });
  await chmod(out, 0o755); // readable by the unprivileged uid some tests run the CLI as
  const path = join(out, 'main.mjs');
  await build({ entryPoints: [join(ROOT, 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: path, logLevel: 'error' });
  return { path, cleanup: () => rm(out, { recursive: true, force: true }) };
}

/** Runs the bundled CLI and resolves with its exit code and output (never rejects). */
export function runWeft(bundle: Bundle, args: readonly string[], options: ExecFileOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bundle.path, ...args], { timeout: 120_000, ...options, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
