// Pins: the directory source reads every yaml/yml/json below the cluster directory (recursively,
// multi-document, `kind: List` expanded), merges `status/` files into the objects they name, ignores kinds
// weft does not read, and gives namespaced objects without a namespace the default one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectorySource } from '../../control/sources/files.js';
import { asKind } from '../../control/sources/schemas.js';

describe('DirectorySource initial load', () => {
  let dir: string;
  let source: DirectorySource;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-files-load-'));
  });
  afterEach(async () => {
    await source?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads multi-document YAML, JSON and Lists, and merges status files', async () => {
    await mkdir(path.join(dir, 'manifests', 'deep', 'er'), { recursive: true });
    await mkdir(path.join(dir, 'status'));
    await writeFile(
      path.join(dir, 'manifests', 'app.yaml'),
      [
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {weft.dev/dataplane-mode: ambient}',
        'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, appProtocol: http}]',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored, namespace: shop}\ndata: {a: b}',
        '',
      ].join('\n---\n'),
    );
    await writeFile(
      path.join(dir, 'manifests', 'deep', 'er', 'pods.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: { nodeName: 'n1' } },
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nons' }, spec: {} },
        ],
      }),
    );
    await writeFile(
      path.join(dir, 'status', 'Pod.shop.web-1.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop}\nstatus:\n  phase: Running\n  podIP: 10.244.1.5\n  podIPs: [{ip: 10.244.1.5}]\n',
    );
    await writeFile(path.join(dir, 'manifests', 'notes.txt'), 'not a manifest');
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    const invalid: unknown[] = [];
    source.on('invalid', (i) => invalid.push(i));
    await source.start();

    expect(invalid).toEqual([]);
    expect(source.get({ kind: 'Namespace', name: 'shop' })?.metadata.labels).toEqual({ 'weft.dev/dataplane-mode': 'ambient' });
    const svc = asKind(source.get({ kind: 'Service', namespace: 'shop', name: 'web' }), 'Service');
    expect(svc?.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 8080, appProtocol: 'http' });
    const pod = asKind(source.get({ kind: 'Pod', namespace: 'shop', name: 'web-1' }), 'Pod');
    expect(pod?.status?.podIP).toBe('10.244.1.5');
    expect(pod?.spec?.nodeName).toBe('n1');
    expect(source.get({ kind: 'Pod', namespace: 'default', name: 'nons' })).toBeDefined();
    expect(source.list('Pod')).toHaveLength(2);
  });

  it('a status file for an object that does not exist creates nothing', async () => {
    await mkdir(path.join(dir, 'status'), { recursive: true });
    await writeFile(path.join(dir, 'status', 'Pod.a.b.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: a}\nstatus: {phase: Running}\n');
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    await source.start();
    expect(source.list('Pod')).toEqual([]);
  });
});
