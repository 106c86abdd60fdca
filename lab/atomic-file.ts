import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a lab file atomically (temp file in the same directory, then rename), so that a reader (a pod
 * reading its hosts file or token, `down` reading a process record) never sees half of it.
 */
export async function writeAtomic(path: string, content: string, mode?: number): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, content, mode !== undefined ? { mode } : {});
  await rename(tmp, path);
}
