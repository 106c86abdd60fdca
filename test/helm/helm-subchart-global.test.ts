// Failure: values.schema.json refused every key it did not list, `global` included, and Helm gives a
// subchart its parent's `global` values: the chart could not be used as a dependency. Pins: weft renders as
// a subchart (with globals set) and standalone with a `global` value, parent values reach it, and its own
// keys are still checked.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHART, cleanupHelmHome, describeHelm, helm, type Rendered } from './chart.js';

describeHelm('weft as a subchart', () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'weft-t-helm-parent-'));
    await mkdir(join(parent, 'charts'));
    await cp(CHART, join(parent, 'charts', 'weft'), { recursive: true });
    await writeFile(join(parent, 'Chart.yaml'), 'apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n  - name: weft\n    version: 0.1.0\n');
    await writeFile(join(parent, 'values.yaml'), 'global:\n  imageRegistry: registry.example.org\nweft:\n  control:\n    replicaCount: 3\n');
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  it('renders with the parent\'s globals and values', async () => {
    const r = await helm(['template', 'platform', parent, '--namespace', 'mesh', '--set', 'global.team=net']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Rendered | null).filter((o): o is Rendered => o !== null);
    const control = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'weft-control');
    expect((control?.spec as { replicas: number }).replicas).toBe(3);
  });

  it('standalone, a global value is accepted', async () => {
    const r = await helm(['template', 'weft', CHART, '--namespace', 'mesh', '--set', 'global.imageRegistry=registry.example.org']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('still refuses an unknown key of its own', async () => {
    const r = await helm(['template', 'platform', parent, '--namespace', 'mesh', '--set', 'weft.control.replicas=3']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/additional properties 'replicas' not allowed/);
  });
});
