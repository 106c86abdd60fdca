// Pins `weft lab apply/delete` as the lab's API server: defaults the namespace, fills uid and
// creationTimestamp and keeps them on re-apply, allocates a Service VIP once and keeps it, refuses a
// clusterIP another Service holds and an unknown image (writing nothing of that batch), and deletes.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyObjects, deleteObjects } from '../../lab/apiserver.js';
import { readObjects } from '../../lab/cluster-store.js';
import { parseManifests } from '../../lab/manifests.js';
import { labPaths, type LabPaths } from '../../lab/names.js';
import { hasCode } from '../../lib/errors/index.js';

const svc = (name: string, ip?: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  selector: { app: x }\n  ports: [{ port: 80 }]\n${ip ? `  clusterIP: ${ip}\n` : ''}`;

describe('lab apply', () => {
  let root: string;
  let paths: LabPaths;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-tapply-'));
    paths = labPaths('t', root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fills namespace, uid, creationTimestamp and clusterIP, and keeps them on re-apply', async () => {
    const r1 = await applyObjects(paths, parseManifests(svc('a'), 't'));
    expect(r1).toEqual([{ key: 'Service/default/a', action: 'created' }]);
    const [first] = await readObjects(paths.manifests);
    expect(first.file.endsWith('Service.default.a.yaml')).toBe(true);
    expect(first.object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const vip = first.object.spec!.clusterIP as string;
    expect(vip).toMatch(/^10\.96\./);
    const r2 = await applyObjects(paths, parseManifests(svc('a'), 't'));
    expect(r2[0].action).toBe('unchanged');
    const [again] = await readObjects(paths.manifests);
    expect(again.object.metadata.uid).toBe(first.object.metadata.uid);
    expect(again.object.spec!.clusterIP).toBe(vip);
  });

  it('refuses a taken clusterIP and an unknown image, writing nothing of that batch', async () => {
    await applyObjects(paths, parseManifests(svc('a', '10.96.0.10'), 't'));
    const taken = await applyObjects(paths, parseManifests(svc('b', '10.96.0.10'), 't')).catch((e: unknown) => e);
    expect(hasCode(taken, 'ERR_WEFT_LAB_VIP_TAKEN')).toBe(true);
    const batch = `${svc('c')}---\napiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: nginx }] }\n`;
    const unknown = await applyObjects(paths, parseManifests(batch, 't')).catch((e: unknown) => e);
    expect(hasCode(unknown, 'ERR_WEFT_LAB_UNKNOWN_IMAGE')).toBe(true);
    expect(await readdir(paths.manifests)).toEqual(['Service.default.a.yaml']);
  });

  it('delete removes the named objects and reports the missing', async () => {
    await applyObjects(paths, parseManifests(svc('a'), 't'));
    const r = await deleteObjects(paths, parseManifests(`${svc('a')}---\n${svc('zz')}`, 't'));
    expect(r).toEqual([
      { key: 'Service/default/a', deleted: true },
      { key: 'Service/default/zz', deleted: false },
    ]);
    expect(await readdir(paths.manifests)).toEqual([]);
  });
});
