#!/usr/bin/env node
// bench/lab-demo: how long the README's first command takes once the tools are built. Each run is
// `weft lab up --demo` exactly as a user types it (dist/cli/main.js, a fresh lab of its own name), timed
// from start to exit (the demo pods Ready and the hints printed), then `weft lab down`, timed too. The
// lab's own log (WEFT_LOG_LEVEL=info, JSON lines on stdout) gives each Kubernetes component's start time. The baseline in the
// same run is `weft lab up --no-mesh` (the same cluster, no weft-control, node agents or demo): what
// weft's parts and the demo add. Target (issue #11): demo ready in ≤ 30 s on a warm machine.
// Usage: npm run bench -- lab-demo [--runs 3] [--out FILE]   (root)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchResult } from '../lib/results-file.js';

const TARGET_MS = 30_000;
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, out: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 10) throw new Error('--runs must be 1-10');
if (process.getuid?.() !== 0) throw new Error('lab-demo needs root (network namespaces): run it with sudo');

interface Timed {
  readonly ms: number;
  readonly stdout: string;
  /** The lab's `started` log lines: component → ms. */
  readonly components: Record<string, number>;
}

/** Runs the CLI with `args`, timed; a non-zero exit fails the bench with the command's output. */
function weft(args: readonly string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, WEFT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Math.round(performance.now() - t0);
      if (code !== 0) return reject(new Error(`weft ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`));
      const components: Record<string, number> = {};
      // pino writes to stdout, between the command's own lines.
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const l = JSON.parse(line) as { msg?: string; component?: string; ms?: number };
          if (l.msg === 'started' && typeof l.component === 'string' && typeof l.ms === 'number') components[l.component] = l.ms;
        } catch {
          // not a log line
        }
      }
      resolve({ ms, stdout, components });
    });
  });
}

interface Run {
  readonly upMs: number;
  readonly downMs: number;
  readonly components: Record<string, number>;
}

/** One `up` (with `flags`) and its `down`, on a lab of its own; the lab is removed also when `up` fails. */
async function once(flags: readonly string[]): Promise<Run> {
  const lab = `bd${randomBytes(4).toString('hex')}`;
  let up: Timed;
  try {
    up = await weft(['lab', 'up', '--lab', lab, ...flags]);
  } catch (err) {
    await weft(['lab', 'down', '--lab', lab]).catch(() => undefined);
    throw err;
  }
  const down = await weft(['lab', 'down', '--lab', lab]);
  return { upMs: up.ms, downMs: down.ms, components: up.components };
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

const demo: Run[] = [];
const plain: Run[] = [];
for (let i = 0; i < runs; i++) {
  // Alternated, so that a slow phase of the machine lands on both.
  const d = await once(['--demo']);
  demo.push(d);
  console.log(`run ${i + 1}: weft lab up --demo ${(d.upMs / 1000).toFixed(1)} s (down ${(d.downMs / 1000).toFixed(1)} s)`);
  const p = await once(['--no-mesh']);
  plain.push(p);
  console.log(`run ${i + 1}: weft lab up --no-mesh ${(p.upMs / 1000).toFixed(1)} s (down ${(p.downMs / 1000).toFixed(1)} s)`);
}
const demoP50 = pct(demo.map((r) => r.upMs), 50);
const plainP50 = pct(plain.map((r) => r.upMs), 50);
const componentsP50: Record<string, number> = {};
for (const name of Object.keys(demo[0].components)) componentsP50[name] = pct(demo.map((r) => r.components[name] ?? NaN), 50);
const result = {
  runs,
  demoUpMs: { p50: demoP50, max: Math.max(...demo.map((r) => r.upMs)) },
  plainUpMs: { p50: plainP50, max: Math.max(...plain.map((r) => r.upMs)) },
  ratio: Math.round((demoP50 / plainP50) * 100) / 100,
  downMs: { p50: pct(demo.map((r) => r.downMs), 50) },
  kubeComponentStartMsP50: componentsP50,
  target: { demoUpMs: TARGET_MS },
  targetMet: demoP50 <= TARGET_MS,
  samples: { demo, plain },
};
console.log('');
console.log(`weft lab up --demo: p50 ${(demoP50 / 1000).toFixed(1)} s (target ≤ ${TARGET_MS / 1000} s: ${result.targetMet ? 'ok' : 'MISSED'}); the same cluster without weft (--no-mesh): p50 ${(plainP50 / 1000).toFixed(1)} s (${result.ratio}×)`);
console.log(`Kubernetes components, start to answering (p50): ${Object.entries(componentsP50).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
console.log(`weft lab down: p50 ${(result.downMs.p50 / 1000).toFixed(1)} s`);
console.log(`wrote ${writeBenchResult('lab-demo', result, values.out)}`);
