import { join } from 'node:path';
import { isWeftError } from '../../lib/errors/index.js';
import { unchainWeft } from './conflist.js';
import { listConfigs, readConfig, removeFile, writeFileAtomic } from './files.js';
import { removeBinary } from './binary.js';
import { clearState, readState, sha256 } from './state.js';
import { clearStatus } from './status.js';

export interface UninstallResult {
  /** Files put back to their original bytes. */
  readonly restored: string[];
  /** Files that changed since weft wrote them: weft's entry removed from their current content. */
  readonly unchained: string[];
  /** Files that mention weft but that install-cni cannot parse: left alone. */
  readonly skipped: string[];
  readonly binaryRemoved: boolean;
}

/**
 * Takes weft out of the node: every config holding a weft-cni entry goes back to the bytes it had before
 * install-cni touched it when it still holds exactly what install-cni wrote (a converted `.conf` comes
 * back under its old name), or loses just weft's entry when another writer changed it since; then the
 * plugin binary and the state file go.
 */
export function uninstall(confDir: string, binDir: string): UninstallResult {
  const state = readState(confDir);
  const result: UninstallResult = { restored: [], unchained: [], skipped: [], binaryRemoved: false };
  for (const name of listConfigs(confDir)) {
    const path = join(confDir, name);
    let read;
    try {
      read = readConfig(path);
    } catch {
      continue;
    }
    if (read === undefined) continue;
    // What install-cni wrote kept the original's mode and owner, so the file at hand still has them.
    const { text, attrs } = read;
    if (state !== undefined && state.file === name && sha256(text) === state.writtenSha256) {
      writeFileAtomic(join(confDir, state.originalName), state.originalText, attrs);
      if (state.originalName !== name) removeFile(path);
      result.restored.push(state.originalName);
      continue;
    }
    try {
      const un = unchainWeft(text, name);
      if (un.changed) {
        writeFileAtomic(path, un.text, attrs);
        result.unchained.push(name);
      }
    } catch (err) {
      if (!(isWeftError(err) && err.code === 'ERR_WEFT_CNI_INSTALL_UNPARSEABLE')) throw err;
      if (text.includes('weft-cni')) result.skipped.push(name);
    }
  }
  clearState(confDir);
  clearStatus(confDir);
  return { ...result, binaryRemoved: removeBinary(binDir) };
}
