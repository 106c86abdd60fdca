// Pins that a Service the control plane's waypoint controller writes into generated/ gets a cluster IP
// from the lab (as an API server would allocate one); without it the waypoint's Gateway never becomes
// Programmed and no traffic is sent through it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocateGeneratedVips, applyObjects } from '../../lab/apiserver.js';
import { readObjects, writeObject } from '../../lab/cluster-store.js';
import { parseManifests } from '../../lab/manifests.js';
import { labPaths, type LabPaths } from '../../lab/names.js';

describe('lab generated services', () => {
  let root: string;
  let paths: LabPaths;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-tgen-'));
    paths = labPaths('t', root);
    await mkdir(paths.generated, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('allocates a free VIP once, keeps it, and leaves other kinds alone', async () => {
    await applyObjects(paths, parseManifests('apiVersion: v1\nkind: Service\nmetadata: { name: app, namespace: demo }\nspec: { ports: [{ port: 80 }] }\n', 't'));
    const manifestVip = (await readObjects(paths.manifests))[0].object.spec!.clusterIP;
    await writeObject(paths.generated, 'Service.demo.waypoint.yaml', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'waypoint', namespace: 'demo', annotations: { 'weft.dev/config-hash': 'x' } },
      spec: { ports: [{ name: 'mesh', port: 15008 }] },
    });
    await writeObject(paths.generated, 'ServiceAccount.demo.waypoint.yaml', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'waypoint', namespace: 'demo' } });
    expect(await allocateGeneratedVips(paths)).toEqual(['Service/demo/waypoint']);
    const gen = (await readObjects(paths.generated)).find((s) => s.object.kind === 'Service')!.object;
    const vip = gen.spec!.clusterIP as string;
    expect(vip).toMatch(/^10\.96\./);
    expect(vip).not.toBe(manifestVip);
    expect(gen.metadata.annotations).toEqual({ 'weft.dev/config-hash': 'x' });
    expect(await allocateGeneratedVips(paths)).toEqual([]);
    expect((await readObjects(paths.generated)).find((s) => s.object.kind === 'Service')!.object.spec!.clusterIP).toBe(vip);
  });
});
