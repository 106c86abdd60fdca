// `npm run bench -- <name> [args]` runs bench/<name>/main.ts compiled to dist/bench/<name>/main.js.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
const available = existsSync(join(root, 'bench'))
  ? readdirSync(join(root, 'bench'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'results').map((d) => d.name)
  : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const entry = join(root, 'dist', 'bench', name, 'main.js');
if (!existsSync(entry)) {
  console.error(`${entry} is missing: run \`npm run build\` first`);
  process.exit(2);
}
// The allocator settings of the image every weft process runs from (Dockerfile), unless set already:
// benches measure what is deployed. glibc reads them at process start, hence here and not in the bench.
const tunables = /^ENV GLIBC_TUNABLES=(\S+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
const env = tunables !== undefined && process.env.GLIBC_TUNABLES === undefined ? { ...process.env, GLIBC_TUNABLES: tunables } : process.env;
const r = spawnSync(process.execPath, [entry, ...rest], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
