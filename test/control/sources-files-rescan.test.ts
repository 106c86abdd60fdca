// Pins: the periodic full rescan is a working safety net — with no directory watchers at all, additions,
// edits and removals (also of a whole directory) still reach the state and the `change` events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectorySource } from '../../control/sources/files.js';
import type { SourceChange } from '../../control/sources/source.js';
import { eventually } from '../support/eventually.js';

const sa = (name: string, labels = '{}') => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${name}, namespace: ns, labels: ${labels}}\n`;

describe('DirectorySource periodic rescan', () => {
  let dir: string;
  let source: DirectorySource;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-files-rescan-'));
    await mkdir(path.join(dir, 'a'));
    await writeFile(path.join(dir, 'a', 'one.yaml'), sa('one'));
  });
  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sees changes without any watcher', async () => {
    source = new DirectorySource({ dir, watch: false, rescanIntervalMs: 100 });
    const changes: SourceChange[] = [];
    source.on('change', (c: readonly SourceChange[]) => changes.push(...c));
    await source.start();
    const names = () => source.list('ServiceAccount').map((o) => o.metadata.name).sort();
    expect(names()).toEqual(['one']);
    await mkdir(path.join(dir, 'b', 'c'), { recursive: true });
    await writeFile(path.join(dir, 'b', 'c', 'two.yaml'), sa('two'));
    await writeFile(path.join(dir, 'a', 'one.yaml'), sa('one', '{v: "2"}'));
    await eventually(() => names().includes('two') && source.get({ kind: 'ServiceAccount', namespace: 'ns', name: 'one' })?.metadata.labels?.v === '2', 10_000, 'add + edit');
    await rm(path.join(dir, 'b'), { recursive: true });
    await eventually(() => !names().includes('two'), 10_000, 'directory removal');
    expect(changes.map((c) => `${c.type}:${c.object.metadata.name}`)).toEqual(expect.arrayContaining(['upsert:two', 'upsert:one', 'delete:two']));
  });

  it('with watchers, removing a directory removes its objects at once', async () => {
    source = new DirectorySource({ dir, rescanIntervalMs: 0 });
    await source.start();
    await rm(path.join(dir, 'a'), { recursive: true });
    await eventually(() => source.list('ServiceAccount').length === 0, 10_000, 'removal seen through the watcher');
  });
});
