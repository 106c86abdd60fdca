// Bundles `weft dashboard`'s page (cli/dashboard/ui/) with esbuild into dist/dashboard/: app.js (preact,
// uPlot and the page), app.css and index.html. The CLI serves these files itself: no CDN, nothing fetched
// by the browser from elsewhere.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'cli/dashboard/ui');
const out = join(root, 'dist/dashboard');

await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(src, 'main.tsx') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  tsconfig: join(src, 'tsconfig.json'),
  logLevel: 'warning',
});
await copyFile(join(src, 'index.html'), join(out, 'index.html'));
console.log(`build:dashboard: ${out}`);
