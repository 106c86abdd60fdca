// Pins: `weft --help` (and a command's own --help) starts without loading what only some commands need —
// the Kubernetes client, x509/PKI, the lab's schemas (zod), the logger, YAML — because each command imports
// its heavy modules inside its handler (dist/cli/main.js went from ~585 files and ~1 s of CPU to ~100
// files). A static import sneaking back into cli/commands/*.ts, cli/output.ts or cli/kube/connect.ts fails
// here. The CLI is bundled with esbuild code splitting, so dynamic imports stay lazy as in dist/; a loader
// hook records every module the process loads, and `weft hbone-demo` shows that it does see them.
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const HEAVY = ['@kubernetes/client-node', '@peculiar/x509', 'reflect-metadata', 'zod', 'pino', 'yaml', 'undici', '@grpc/grpc-js'];

const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}
`;

/** The npm packages among the resolved module URLs (`.../node_modules/@scope/name/...` → `@scope/name`). */
function packagesIn(urls: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

describe('weft start-up', () => {
  let dir: string;
  let run: (args: readonly string[]) => Promise<{ code: number; packages: Set<string>; stdout: string }>;

  beforeAll(async () => {
    // Bare imports stay external and resolve from node_modules, so the bundle lives under it.
    dir = join(ROOT, 'node_modules', '.cache', `weft-t-cli-startup-${process.pid}`);
    await build({ entryPoints: [join(ROOT, 'cli', 'main.ts')], bundle: true, splitting: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outdir: dir, outExtension: { '.js': '.mjs' }, logLevel: 'error' });
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    let n = 0;
    run = async (args) => {
      const loaded = join(dir, `loaded-${n++}.txt`);
      await writeFile(loaded, '');
      const register = join(dir, `register-${n}.mjs`);
      await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { file: ${JSON.stringify(loaded)} } });\n`);
      const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, ['--import', pathToFileURL(register).href, join(dir, 'main.mjs'), ...args], { env: { PATH: process.env.PATH, HOME: dir }, timeout: 60_000 }, (err, stdout) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout });
        });
      });
      return { ...r, packages: packagesIn((await readFile(loaded, 'utf8')).split('\n')) };
    };
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('`weft --help` loads yargs and none of the heavy modules', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('weft <command>');
    expect(r.packages.has('yargs')).toBe(true);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
  }, 60_000);

  it.each(['check', 'install', 'lab up', 'waypoint apply', 'namespace', 'version', 'hbone-demo', 'stat', 'edges'])('`weft %s --help` loads none of them either', async (cmd) => {
    const r = await run([...cmd.split(' '), '--help']);
    expect(r.code, r.stdout).toBe(0);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
  }, 60_000);

  it('-o yaml still prints YAML (yaml is required on first use)', async () => {
    const r = await run(['version', '--client', '-o', 'yaml']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^client:\n {2}version: \d+\.\d+\.\d+/);
  }, 60_000);

  it('a command that needs them loads them when it runs (the hook sees dynamic imports)', async () => {
    const r = await run(['hbone-demo', '--rounds', '1']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('ok: tunnel closed cleanly');
    expect(r.packages.has('@peculiar/x509')).toBe(true);
    expect(r.packages.has('reflect-metadata')).toBe(true);
  }, 60_000);
});
