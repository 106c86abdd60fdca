import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeFile, writeFileAtomic } from './files.js';

/**
 * What install-cni remembers between runs, kept in the conf dir itself (the one place a restarted
 * install-cni container is sure to have mounted): the primary config's bytes before weft touched them,
 * and a hash of what weft wrote. Uninstall restores the original bytes only while the file still holds
 * exactly what weft wrote; if someone changed it since, it removes weft's entry from their version.
 * A dotfile with a `.json`-free name, so runtimes never read it as a network config.
 */
export const STATE_FILE = '.weft-cni-install.state';

export interface InstallState {
  /** The file weft wrote (a `.conflist`; differs from originalName when a `.conf` was converted). */
  readonly file: string;
  readonly originalName: string;
  readonly originalText: string;
  readonly writtenSha256: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function readState(confDir: string): InstallState | undefined {
  let text: string;
  try {
    text = readFileSync(join(confDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<InstallState>;
    if (typeof s.file === 'string' && typeof s.originalName === 'string' && typeof s.originalText === 'string' && typeof s.writtenSha256 === 'string') {
      return s as InstallState;
    }
  } catch {
    // fall through: a damaged state file only costs the exact-bytes restore
  }
  return undefined;
}

export function writeState(confDir: string, state: InstallState): void {
  writeFileAtomic(join(confDir, STATE_FILE), JSON.stringify(state) + '\n', { mode: 0o600 }); // holds a copy of a config
}

export function clearState(confDir: string): void {
  removeFile(join(confDir, STATE_FILE));
}
