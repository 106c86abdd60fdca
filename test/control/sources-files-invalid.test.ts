// Pins: an invalid manifest in the directory is reported once per (file, content) — not on every rescan —
// again when its content changes, is listed by invalidObjects() while it is skipped, and an object that turns
// invalid is removed (a delete change) until it is fixed, without touching its neighbours in the same file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectorySource } from '../../control/sources/files.js';
import type { InvalidInfo, SourceChange } from '../../control/sources/source.js';
import { eventually } from '../support/eventually.js';

const svc = (name: string, port: number | string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ns}\nspec:\n  ports: [{port: ${port}}]\n`;

describe('DirectorySource invalid manifests', () => {
  let dir: string;
  let source: DirectorySource;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-files-invalid-'));
    await mkdir(path.join(dir, 'manifests'));
  });
  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports once per content and removes an object while it is invalid', async () => {
    const file = path.join(dir, 'manifests', 'svcs.yaml');
    await writeFile(file, [svc('a', 80), svc('b', 80)].join('---\n'));
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    const invalid: InvalidInfo[] = [];
    const changes: SourceChange[] = [];
    source.on('invalid', (i) => invalid.push(i));
    source.on('change', (c) => changes.push(...c));
    await source.start();
    expect(source.list('Service')).toHaveLength(2);

    await writeFile(file, [svc('a', 80), svc('b', 70000)].join('---\n'));
    await eventually(() => source.get({ kind: 'Service', namespace: 'ns', name: 'b' }) === undefined, 10_000, 'b skipped');
    expect(source.get({ kind: 'Service', namespace: 'ns', name: 'a' })).toBeDefined();
    expect(changes.map((c) => `${c.type}:${c.object.metadata.name}`)).toEqual(['delete:b']);
    await source.sync();
    await source.sync();
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ ref: { kind: 'Service', name: 'b', namespace: 'ns' }, file });
    expect(invalid[0]?.reason).toContain('spec.ports.0.port');
    expect(source.invalidObjects().map((i) => i.ref.name)).toEqual(['b']);

    await writeFile(file, [svc('a', 80), svc('b', '"http"')].join('---\n'));
    await eventually(() => invalid.length === 2, 10_000, 'new content reported');
    await writeFile(file, [svc('a', 80), svc('b', 8080)].join('---\n'));
    await eventually(() => source.get({ kind: 'Service', namespace: 'ns', name: 'b' }), 10_000, 'b fixed');
    expect(source.invalidObjects()).toEqual([]);
    expect(invalid).toHaveLength(2);
  });
});
