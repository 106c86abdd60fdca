// Pins: the directory source follows the directory while running — new files (also in new
// subdirectories), edits, deletions and status updates become batched `change` events — and its writes use
// the file names of lib/object-file-name.ts: status/<Kind>.<ns>.<name>.yaml, generated/<Kind>.<ns>.<name>.yaml.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { DirectorySource } from '../../control/sources/files.js';
import type { SourceChange } from '../../control/sources/source.js';
import { eventually } from '../support/eventually.js';

const pod = (name: string, extra = '') => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ns\n${extra}spec: {nodeName: n1}\n`;

describe('DirectorySource watching and writing', () => {
  let dir: string;
  let source: DirectorySource;
  let batches: SourceChange[][];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-files-watch-'));
    await mkdir(path.join(dir, 'manifests'));
    await writeFile(path.join(dir, 'manifests', 'a.yaml'), pod('a'));
    // No periodic rescan: these changes must arrive through the directory watchers.
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    batches = [];
    source.on('change', (c) => batches.push([...c]));
    await source.start();
  });
  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const names = () => source.list('Pod').map((p) => p.metadata.name).sort();

  it('picks up new files, new directories, edits and deletions', async () => {
    await writeFile(path.join(dir, 'manifests', 'b.yaml'), pod('b'));
    await eventually(() => names().includes('b'), 10_000, 'b added');
    // A new directory is walked (which finds s) and watched from before its listing: once s is seen, c can
    // only arrive through the new directory's own watcher.
    await mkdir(path.join(dir, 'pods', 'more'), { recursive: true });
    await writeFile(path.join(dir, 'pods', 'more', 's.yaml'), pod('s'));
    await eventually(() => names().includes('s'), 10_000, 's found in a new directory');
    await writeFile(path.join(dir, 'pods', 'more', 'c.yaml'), pod('c'));
    await eventually(() => names().includes('c'), 10_000, 'c added in a new directory');
    // atomic replace, as the lab writes
    await writeFile(path.join(dir, 'manifests', '.a.yaml.tmp'), pod('a', '  labels: {v: "2"}\n'));
    await rename(path.join(dir, 'manifests', '.a.yaml.tmp'), path.join(dir, 'manifests', 'a.yaml'));
    await eventually(() => source.get({ kind: 'Pod', namespace: 'ns', name: 'a' })?.metadata.labels?.v === '2', 10_000, 'a edited');
    await rm(path.join(dir, 'manifests', 'b.yaml'));
    await eventually(() => !names().includes('b'), 10_000, 'b deleted');
    const flat = batches.flat().map((c) => `${c.type}:${c.object.metadata.name}`);
    expect(flat).toEqual(['upsert:b', 'upsert:s', 'upsert:c', 'upsert:a', 'delete:b']);
  });

  it('writes status files and merges them back', async () => {
    await source.writeStatus({ kind: 'Pod', namespace: 'ns', name: 'a' }, { phase: 'Running', podIP: '10.244.1.9' });
    const file = path.join(dir, 'status', 'Pod.ns.a.yaml');
    expect(parse(await readFile(file, 'utf8'))).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns' }, status: { phase: 'Running', podIP: '10.244.1.9' } });
    await eventually(() => (source.get({ kind: 'Pod', namespace: 'ns', name: 'a' })?.status as { podIP?: string } | undefined)?.podIP === '10.244.1.9');
    const before = batches.length;
    await source.writeStatus({ kind: 'Pod', namespace: 'ns', name: 'a' }, { phase: 'Running', podIP: '10.244.1.9' }); // unchanged: no write
    await source.sync();
    expect(batches.length).toBe(before);
    expect((await readdir(path.join(dir, 'status'))).filter((f) => f.startsWith('.'))).toEqual([]); // no temp files left
  });

  it('applies into generated/ keeping the uid, and deletes from there', async () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount' as const, metadata: { name: 'wp', namespace: 'ns' } };
    await source.apply(sa, 'weft-waypoint-controller');
    const file = path.join(dir, 'generated', 'ServiceAccount.ns.wp.yaml');
    const first = parse(await readFile(file, 'utf8')) as { metadata: { uid: string; annotations: Record<string, string> } };
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.metadata.annotations['weft.dev/field-manager']).toBe('weft-waypoint-controller');
    await source.apply({ ...sa, metadata: { ...sa.metadata, labels: { x: 'y' } } }, 'weft-waypoint-controller');
    const second = parse(await readFile(file, 'utf8')) as { metadata: { uid: string } };
    expect(second.metadata.uid).toBe(first.metadata.uid);
    await eventually(() => source.get({ kind: 'ServiceAccount', namespace: 'ns', name: 'wp' })?.metadata.labels?.x === 'y');
    await source.delete({ kind: 'ServiceAccount', namespace: 'ns', name: 'wp' });
    await eventually(() => source.get({ kind: 'ServiceAccount', namespace: 'ns', name: 'wp' }) === undefined);
  });
});
