import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
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

/** Mode and owner a written file gets; a file that replaces another takes that one's (readConfig). */
export interface FileAttributes {
  readonly mode: number;
  /** Owner to keep; undefined means install-cni's own (a new file). */
  readonly uid?: number;
  readonly gid?: number;
}

/** A new CNI config: what the runtimes and the CNIs' own installers write. */
export const NEW_CONFIG_ATTRIBUTES: FileAttributes = { mode: 0o644 };

/**
 * A config's text with its mode and owner, from one open (so both describe the same file), for the file
 * that replaces it: a conflist can hold a token (Calico's kubeconfig, Multus' credentials) and its owner
 * may have made it 0600 for that reason. Undefined when the file is gone.
 */
export function readConfig(path: string): { text: string; attrs: FileAttributes } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // raced with a rename or removal
    throw ioError('read', path, err);
  }
  try {
    return { attrs: attributesOfStat(fstatSync(fd)), text: readFileSync(fd, 'utf8') };
  } catch (err) {
    throw ioError('read', path, err);
  } finally {
    closeSync(fd);
  }
}

function attributesOfStat(st: Stats): FileAttributes {
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/**
 * Writes a file so that a reader (the container runtime, another installer) sees either the old or the
 * new bytes, never a torn file: temp file in the same directory, fsync, rename over the target. The temp
 * file has the final mode and owner before it gets any byte (set on the fd, so the umask plays no part
 * and the content is never readable by more users than the target allows). Its name starts with a dot
 * and has no config extension, so runtimes never pick it up.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, attrs: FileAttributes = NEW_CONFIG_ATTRIBUTES): void {
  const tmp = join(dirname(path), `.weft-cni-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    const uid = attrs.uid ?? -1;
    const gid = attrs.gid ?? -1;
    if ((uid !== -1 && uid !== process.geteuid?.()) || (gid !== -1 && gid !== process.getegid?.())) fchownSync(fd, uid, gid);
    fchmodSync(fd, attrs.mode); // after chown, which clears set-id bits
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
