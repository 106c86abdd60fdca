// Pins: 1 000 fuzzed manifests (random bytes, broken YAML, alias bombs, deep nesting, valid objects with
// mutated fields) are reported and skipped — the directory source neither crashes nor loses or alters the
// valid objects beside them, keeps following the directory afterwards, and does it in bounded time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DirectorySource } from '../../control/sources/files.js';
import { validateObject } from '../../control/sources/schemas.js';
import { eventually } from '../support/eventually.js';
import { mulberry32 } from '../support/prng.js';

const BASELINE = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/dataplane-mode': 'ambient' } } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: { nodeName: 'n1', serviceAccountName: 'web' } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'web', port: 80 }], timeouts: { request: '10s' } }] },
  },
  {
    apiVersion: 'security.weft.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'allow', namespace: 'shop' },
    spec: { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], action: 'ALLOW', rules: [{ from: [{ source: { principals: ['ns/shop/sa/web'] } }], to: [{ operation: { ports: ['80'], methods: ['GET'] } }] }] },
  },
];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * 9);
  switch (pick) {
    case 0: return null;
    case 1: return Math.floor(r() * 200000) - 100000;
    case 2: return r() < 0.5;
    case 3: return 'x'.repeat(Math.floor(r() * 3000));
    case 4: return String.fromCharCode(...Array.from({ length: 12 }, () => Math.floor(r() * 0xd7ff)));
    case 5: return depth > 3 ? [] : [randomValue(r, depth + 1), randomValue(r, depth + 1)];
    case 6: return depth > 3 ? {} : { [`k${Math.floor(r() * 10)}`]: randomValue(r, depth + 1) };
    case 7: return 'Prefixish';
    default: return -1;
  }
}

function mutate(r: () => number, obj: Record<string, unknown>, i: number): Record<string, unknown> {
  const copy = structuredClone<Record<string, unknown>>(obj);
  (copy.metadata as Record<string, unknown>).name = `fz-${i}`;
  const mutations = 1 + Math.floor(r() * 3);
  for (let m = 0; m < mutations; m++) {
    // Walk a random path and replace what is there.
    let node: Record<string, unknown> = copy;
    for (let d = 0; d < 6; d++) {
      const keys = Object.keys(node).filter((k) => !(node === copy.metadata && k === 'name'));
      if (keys.length === 0) break;
      const k = keys[Math.floor(r() * keys.length)];
      const child = node[k];
      if (typeof child === 'object' && child !== null && r() < 0.7) {
        node = child as Record<string, unknown>;
        continue;
      }
      node[k] = randomValue(r);
      break;
    }
  }
  return copy;
}

function garbage(r: () => number, i: number): string {
  switch (i % 8) {
    case 0: return Buffer.from(Array.from({ length: 200 }, () => Math.floor(r() * 256))).toString('latin1');
    case 1: return 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n  namespace: {{{\n';
    case 2: return `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;
    case 3: return `${'['.repeat(500)}${']'.repeat(500)}`;
    case 4: return '- just\n- a\n- list\n';
    case 5: return `kind: Pod\nmetadata:\n  name: fz-nons-${i}\n  namespace: "Not A Valid Namespace"\n`;
    case 6: return `apiVersion: v1\nkind: Service\nmetadata: {name: fz-${i}, namespace: shop}\nspec:\n  ports: [{port: 99999}]\n`;
    default: return `apiVersion: v1\nkind: Pod\nmetadata: {name: "${'Z'.repeat(300)}", namespace: shop}\n`;
  }
}

describe('DirectorySource fuzzed manifests', () => {
  let dir: string;
  let source: DirectorySource | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-files-fuzz-'));
    await mkdir(path.join(dir, 'manifests'));
    await mkdir(path.join(dir, 'fuzz'));
    await writeFile(path.join(dir, 'manifests', 'baseline.yaml'), BASELINE.map((o) => stringify(o)).join('---\n'));
  });
  afterEach(async () => {
    await source?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports and skips 1 000 fuzzed manifests without harming the valid state', async () => {
    const clean = new DirectorySource({ dir, rescanIntervalMs: 0 });
    await clean.start();
    const expected = JSON.stringify(['Namespace', 'Service', 'Pod', 'HTTPRoute', 'AuthorizationPolicy'].map((k) => clean.list(k as never)));
    await clean.stop();

    const r = mulberry32(0x5eed);
    const garbageFiles: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const file = path.join(dir, 'fuzz', `f${i}.yaml`);
      if (i % 2 === 0) {
        await writeFile(file, garbage(r, i));
        garbageFiles.push(file);
      } else {
        const base = BASELINE[i % BASELINE.length] as Record<string, unknown>;
        await writeFile(file, stringify(mutate(r, base, i)));
      }
    }
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    const reported = new Set<string>();
    source.on('invalid', (info) => reported.add(info.file ?? ''));
    const t0 = Date.now();
    await source.start();
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(30_000);

    // Every garbage file except the plain YAML list (valid YAML, not an object) and empty parses is reported.
    const unreported = garbageFiles.filter((f) => !reported.has(f));
    for (const f of unreported) expect(Number(path.basename(f).slice(1, -5)) % 8).toBe(4);
    // The baseline objects are all there, unchanged.
    const baselineNow = ['Namespace', 'Service', 'Pod', 'HTTPRoute', 'AuthorizationPolicy'].map((k) =>
      source!.list(k as never).filter((o) => !o.metadata.name.startsWith('fz-')),
    );
    expect(JSON.stringify(baselineNow)).toBe(expected);
    // Whatever else got in validates (mutations that happened to stay valid).
    for (const kind of ['Namespace', 'Service', 'Pod', 'HTTPRoute', 'AuthorizationPolicy'] as const) {
      for (const o of source.list(kind)) expect(validateObject(o).ok).toBe(true);
    }
    expect(reported.size).toBeGreaterThan(500);

    // Still following the directory afterwards.
    await writeFile(path.join(dir, 'manifests', 'late.yaml'), stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late', namespace: 'shop' }, spec: {} }));
    await eventually(() => source!.get({ kind: 'Pod', namespace: 'shop', name: 'late' }), 15_000, 'late pod');
  });
});
