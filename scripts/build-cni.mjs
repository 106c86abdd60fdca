// Builds the weft-cni plugin as (1) one esbuild bundle, dist/cni/weft-cni.cjs, and (2) a Node
// single-executable application, dist/cni/weft-cni (node binary + the bundle injected with postject),
// which is what install-cni copies into the node's CNI bin dir. `--measure` times VERSION with both
// forms and with `node dist/cni/plugin.js` (needs `npm run build:ts` first). `--no-sea` stops after (1).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
// --out <dir> builds elsewhere (the tests build into a temp dir so they never clobber dist/).
const outAt = argv.indexOf('--out');
const out = outAt >= 0 && argv[outAt + 1] ? argv[outAt + 1] : join(root, 'dist', 'cni');
const bundle = join(out, 'weft-cni.cjs');
const exe = join(out, 'weft-cni');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'cni', 'plugin.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs', // SEA runs a CommonJS script
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`build:cni: ${bundle} (${statSync(bundle).size} bytes)`);

if (!args.has('--no-sea')) {
  const blob = join(out, 'weft-cni.blob');
  const seaConfig = join(out, 'sea-config.json');
  // useCodeCache: V8 code cache of the bundle inside the blob (skips compiling it at every start).
  // useSnapshot is not used: it needs the entry to be written for snapshot building (no top-level I/O).
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: !args.has('--no-code-cache') }));
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'ignore' });
  rmSync(exe, { force: true });
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
    stdio: ['ignore', 'ignore', 'pipe'], // postject warns about ELF note sections of Debian's node; harmless
  });
  rmSync(blob, { force: true });
  rmSync(seaConfig, { force: true });
  console.log(`build:cni: ${exe} (${(statSync(exe).size / 1e6).toFixed(1)} MB)`);
}

if (args.has('--measure')) {
  const runs = Number(process.env.WEFT_MEASURE_RUNS ?? 21);
  const forms = [
    ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
    ['node dist/cni/plugin.js', process.execPath, [join(root, 'dist', 'cni', 'plugin.js')]],
    ['node weft-cni.cjs (bundle)', process.execPath, [bundle]],
    ['weft-cni (SEA)', exe, []],
  ].filter(([, cmd, a]) => existsSync(a[0] === '-e' ? cmd : (a[0] ?? cmd)));
  const times = forms.map(() => []);
  const cpu = forms.map(() => []);
  // CPU time (user+sys, from GNU time) is reported beside wall time: on a loaded shared machine wall time
  // is mostly queueing, CPU time is what the plugin itself costs.
  const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const cpuFile = join(out, '.measure-cpu');
  // Interleaved rounds so that load from other processes on the machine hits every form alike.
  for (let i = 0; i < runs; i++) {
    forms.forEach(([label, cmd, a], k) => {
      const t0 = process.hrtime.bigint();
      const r = gnuTime
        ? spawnSync(gnuTime, ['-f', '%U %S', '-o', cpuFile, cmd, ...a], { env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' })
        : spawnSync(cmd, a, { env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${r.stdout}${r.stderr}`);
      if (gnuTime) {
        const [u, s] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
        cpu[k].push((u + s) * 1000);
      }
    });
  }
  rmSync(cpuFile, { force: true });
  const p50 = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  forms.forEach(([label], k) => {
    const t = [...times[k]].sort((a, b) => a - b);
    const c = cpu[k].length > 0 ? `  cpu p50 ${p50(cpu[k]).toFixed(0)} ms` : '';
    console.log(`${label.padEnd(28)} VERSION wall p50 ${p50(t).toFixed(1)} ms  min ${t[0].toFixed(1)} ms${c}  (${runs} runs)`);
  });
}
