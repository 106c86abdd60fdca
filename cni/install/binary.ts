import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WEFT_PLUGIN_TYPE } from './conflist.js';
import { ioError, removeFile, writeFileAtomic } from './files.js';

/**
 * Puts the plugin (the static executable scripts/build-cni.mjs builds from cni/native) at
 * `<binDir>/weft-cni` atomically (temp + rename, so a runtime exec'ing it mid-update runs the old or the
 * new one, never a half-written file). Returns whether the file changed.
 */
export function installBinary(pluginPath: string, binDir: string): boolean {
  const target = join(binDir, WEFT_PLUGIN_TYPE);
  const wanted = readSource(pluginPath);
  if (sameContent(target, wanted)) return false;
  writeFileAtomic(target, wanted, { mode: 0o755 });
  return true;
}

export function removeBinary(binDir: string): boolean {
  return removeFile(join(binDir, WEFT_PLUGIN_TYPE));
}

function readSource(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError('read the plugin at', path, err);
  }
}

function sameContent(path: string, wanted: Buffer): boolean {
  try {
    // Size first: no need to read the file when the size already differs.
    if (statSync(path).size !== wanted.length) return false;
    return readFileSync(path).equals(wanted);
  } catch {
    return false;
  }
}

/** Identity of the installed file, to notice cheaply (no read) that something replaced or removed it. */
export function binaryStamp(binDir: string): string | undefined {
  try {
    const s = statSync(join(binDir, WEFT_PLUGIN_TYPE));
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}`;
  } catch {
    return undefined;
  }
}
