// Pins that no field of a manifest can steer where `weft lab apply` (root) writes. Before, the file name
// <Kind>.<namespace>.<name>.yaml was joined unchecked under manifests/: `kind: "../../../tmp/x"` wrote
// outside the lab directory. Now kind (one the lab serves), apiVersion, namespace and name (Kubernetes
// name rules) and the names inside pods and ConfigMaps are refused with ERR_WEFT_LAB_FIELD_INVALID
// naming the field and what is allowed (exit 2 at the CLI) before anything touches the file system, and
// the writers themselves refuse a path that leaves their directory.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../control/sources/files.js';
import { applyObjects, readInput } from '../../lab/apiserver.js';
import { writeObject } from '../../lab/cluster-store.js';
import { labPaths, type LabPaths } from '../../lab/names.js';
import { hasCode, isWeftError } from '../../lib/errors/index.js';
import { joinInside } from '../../lib/path-inside.js';
import { describeRoot } from '../support/root.js';

const ROOT = join(import.meta.dirname, '..', '..');

const pod = (kind: string, namespace: string, name: string): string =>
  `apiVersion: v1\nkind: ${JSON.stringify(kind)}\nmetadata: { name: ${JSON.stringify(name)}, namespace: ${JSON.stringify(namespace)} }\nspec: { containers: [{ name: c, image: debian }] }\n`;

interface Case {
  readonly what: string;
  readonly yaml: string;
  /** Where the old code would have written (from manifests/). */
  readonly target: (p: LabPaths) => string;
  readonly field: RegExp;
}

function cases(u: string): Case[] {
  const up = '../'.repeat(12);
  return [
    { what: 'kind ../../../tmp/<u>', yaml: pod(`../../../tmp/${u}`, 'default', 'x'), target: (p) => join(p.manifests, `../../../tmp/${u}.default.x.yaml`), field: /kind "\.\.\/\.\.\/\.\.\/tmp\/.*must be one of Namespace, Pod, Service/ },
    { what: 'kind reaching /tmp', yaml: pod(`${up}tmp/${u}`, 'default', 'x'), target: () => `/tmp/${u}.default.x.yaml`, field: /kind /},
    { what: 'name with /', yaml: pod('Pod', 'default', `a/${up}tmp/${u}`), target: (p) => join(p.manifests, `Pod.default.a/${up}tmp/${u}.yaml`), field: /metadata\.name of Pod .*RFC 1123 subdomain/ },
    { what: 'name ..', yaml: pod('Pod', 'default', '..'), target: (p) => join(p.manifests, 'Pod.default...yaml'), field: /metadata\.name of Pod "\.\."/ },
    { what: 'name with ..', yaml: pod('Pod', 'default', 'a..b'), target: (p) => join(p.manifests, 'Pod.default.a..b.yaml'), field: /metadata\.name of Pod "a\.\.b"/ },
    { what: 'namespace with ..', yaml: pod('Pod', `x/${up}tmp/${u}`, 'p'), target: (p) => join(p.manifests, `Pod.x/${up}tmp/${u}.p.yaml`), field: /metadata\.namespace of Pod p .*RFC 1123 label/ },
    { what: 'namespace ..', yaml: pod('Pod', '..', 'p'), target: (p) => join(p.manifests, 'Pod.....p.yaml'), field: /metadata\.namespace of Pod p "\.\."/ },
  ];
}

describe('lab apply: no manifest field reaches the file system unchecked', () => {
  let root: string;
  let paths: LabPaths;
  let u: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-tpath-'));
    paths = labPaths('t', join(root, 'state'));
    u = `weft-pwn-${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses bad kinds, names and namespaces, naming the field and the rule, and writes nothing', async () => {
    for (const c of cases(u)) {
      const file = join(root, 'in.yaml');
      await writeFile(file, c.yaml);
      const err = await readInput(file, () => Promise.resolve(''))
        .then((objs) => applyObjects(paths, objs))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(hasCode(err, 'ERR_WEFT_LAB_FIELD_INVALID'), `${c.what}: ${String(err)}`).toBe(true);
      expect((err as Error).message, c.what).toMatch(c.field);
      expect((err as Error).message, c.what).toContain(file);
      expect(existsSync(c.target(paths)), `${c.what}: ${c.target(paths)}`).toBe(false);
    }
    expect(existsSync(join(root, 'state'))).toBe(false);
    expect((await readdir('/tmp')).filter((f) => f.startsWith(u))).toEqual([]);
  });

  it('refuses apiVersions that do not serve the kind', async () => {
    const err = await readInput(join(root, 'x.yaml'), () => Promise.resolve('')).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_MANIFEST_INVALID')).toBe(true); // no such file
    await writeFile(join(root, 'x.yaml'), 'apiVersion: apps/v1\nkind: Service\nmetadata: { name: s }\nspec: { ports: [{ port: 80 }] }\n');
    const bad = await readInput(join(root, 'x.yaml'), () => Promise.resolve('')).catch((e: unknown) => e);
    expect(hasCode(bad, 'ERR_WEFT_LAB_FIELD_INVALID')).toBe(true);
    expect((bad as Error).message).toMatch(/apiVersion of Service "apps\/v1" is not valid: must be v1/);
  });

  it('refuses names inside pods and ConfigMaps that become file names', async () => {
    const docs: [string, RegExp][] = [
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: "../c", image: debian }] }\n', /container name "\.\.\/c"/],
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: debian }], volumes: [{ name: "../v", emptyDir: {} }] }\n', /volume name "\.\.\/v"/],
      [
        'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: debian }], volumes: [{ name: t, projected: { sources: [{ serviceAccountToken: { path: "../../t" } }] } }] }\n',
        /serviceAccountToken\.path "\.\.\/\.\.\/t"/,
      ],
      ['apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\ndata: { "../../x": y }\n', /data key "\.\.\/\.\.\/x"/],
      ['apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\ndata: { "..data": y }\n', /data key "\.\.data"/],
    ];
    for (const [yaml, field] of docs) {
      const file = join(root, 'in.yaml');
      await writeFile(file, yaml);
      const err = await readInput(file, () => Promise.resolve('')).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_LAB_FIELD_INVALID'), yaml).toBe(true);
      expect((err as Error).message).toMatch(field);
    }
  });

  it('the writers refuse a file name that leaves their directory (defence behind validation)', async () => {
    await expect(writeObject(paths.manifests, `../${u}.yaml`, {})).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_PATH_OUTSIDE_ROOT'));
    await expect(writeObject(paths.manifests, `a/${u}.yaml`, {})).rejects.toSatisfy((e: unknown) => hasCode(e, 'ERR_WEFT_PATH_OUTSIDE_ROOT'));
    expect(existsSync(join(paths.cluster, `${u}.yaml`))).toBe(false);
    expect(() => joinInside(root, '..', u)).toThrow(/would leave/);
    expect(() => joinInside(root, `/tmp/${u}`)).toThrow(/would leave/);
    expect(joinInside(root, '..data')).toBe(join(root, '..data'));
    const source = new DirectorySource({ dir: join(root, 'cluster') });
    const err = await source.writeStatus({ kind: 'Pod', namespace: `${'../'.repeat(12)}tmp`, name: u }, {}).catch((e: unknown) => e);
    expect(isWeftError(err) && err.code === 'ERR_WEFT_PATH_OUTSIDE_ROOT', String(err)).toBe(true);
    expect((await readdir('/tmp')).filter((f) => f.startsWith(u))).toEqual([]);
  });
});

describeRoot('weft lab apply (the CLI, as root)', () => {
  let bundle: string;
  let root: string;
  beforeAll(async () => {
    const out = join(ROOT, 'node_modules', '.cache', `weft-t-path-${process.pid}`);
    bundle = join(out, 'main.mjs');
    await build({ entryPoints: [join(ROOT, 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'error' });
    root = await mkdtemp(join(tmpdir(), 'weft-tpath-cli-'));
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    if (bundle) await rm(join(bundle, '..'), { recursive: true, force: true });
  });

  it('exits 2 with the code, the field and the allowed kinds, and writes nothing', async () => {
    const u = `weft-pwn-${randomBytes(6).toString('hex')}`;
    const state = join(root, 'state');
    const paths = labPaths('t', state);
    await mkdir(paths.root, { recursive: true });
    await writeFile(paths.labFile, JSON.stringify({ name: 't', nodes: [], createdAt: '', distDir: '', agent: false, control: false }));
    const file = join(root, 'pwn.yaml');
    await writeFile(file, pod(`../../../tmp/${u}`, 'default', 'x'));
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [bundle, 'lab', 'apply', '--lab', 't', '--state-root', state, '-f', file], { timeout: 60_000 }, (err, _out, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_WEFT_LAB_FIELD_INVALID: .*kind "\.\.\/\.\.\/\.\.\/tmp\/weft-pwn-[0-9a-f]+" is not valid: must be one of Namespace, Pod, Service/);
    expect(existsSync(join(paths.manifests, `../../../tmp/${u}.default.x.yaml`))).toBe(false);
    expect(existsSync(paths.manifests)).toBe(false);
  }, 60_000);
});
