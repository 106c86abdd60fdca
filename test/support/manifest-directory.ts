import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DirectorySource } from '../../control/sources/files.js';

export interface ManifestDirectory {
  readonly dir: string;
  readonly source: DirectorySource;
  /** Stops the source and removes the directory. */
  remove(): Promise<void>;
}

/**
 * A temporary cluster directory (directory mode) with `manifests/<file>` holding each entry's objects as
 * YAML documents, and a started DirectorySource on it without periodic rescans: changes reach it only
 * through its watchers.
 */
export async function manifestDirectory(prefix: string, files: Record<string, readonly object[]>): Promise<ManifestDirectory> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  await mkdir(path.join(dir, 'manifests'));
  for (const [name, objects] of Object.entries(files)) await writeFile(path.join(dir, 'manifests', name), objects.map((o) => stringify(o)).join('---\n'));
  const source = new DirectorySource({ dir, rescanIntervalMs: 0 });
  await source.start();
  return {
    dir,
    source,
    remove: async () => {
      await source.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
