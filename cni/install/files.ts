import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WeftError } from '../../lib/errors/index.js';

/** Extensions libcni reads from the conf dir (containerd, CRI-O): the primary is the first by name. */
export const CONFIG_EXTENSIONS = ['.conflist', '.conf', '.json'] as const;

/**
 * The primary CNI config: the first file by name (byte order, as libcni sorts) with a config extension.
 * Dotfiles are skipped: install-cni keeps its temp files and state there, and runtimes ignore them too
 * because of their extensions.
 */
export function findPrimaryConfig(confDir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(confDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('list', confDir, err);
  }
  return names
    .filter((n) => !n.startsWith('.') && CONFIG_EXTENSIONS.some((ext) => n.endsWith(ext)))
    .sort()
    .find((n) => {
      try {
        return statSync(join(confDir, n)).isFile();
      } catch {
        return false; // removed between readdir and stat
      }
    });
}

/** Every config-looking file in the conf dir, sorted (uninstall looks at all of them). */
export function listConfigs(confDir: string): string[] {
  try {
    return readdirSync(confDir)
      .filter((n) => !n.startsWith('.') && CONFIG_EXTENSIONS.some((ext) => n.endsWith(ext)))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('list', confDir, err);
  }
}

/**
 * Writes a file so that a reader (the container runtime, another installer) sees either the old or the
 * new bytes, never a torn file: temp file in the same directory, fsync, rename over the target. The
 * temp name starts with a dot and has no config extension, so runtimes never pick it up.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.weft-cni-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // not created, or already renamed
    }
    throw ioError('write', path, err);
  }
}

export function removeFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('remove', path, err);
  }
}

export function ioError(op: string, path: string, err: unknown): WeftError {
  if (err instanceof WeftError) return err;
  return new WeftError('ERR_WEFT_CNI_INSTALL_IO', { op, path, reason: (err as Error).message }, { cause: err });
}
