import { join } from 'node:path';
import { removeFile, writeFileAtomic } from './files.js';

/**
 * What the install-cni daemon reports about the node, for the chart's readiness probe (which fails while
 * `state` is `contested` and prints this file, so `kubectl describe pod` shows why) and for people on the
 * node. Kept in the conf dir beside the state file; a dotfile without a config extension, so runtimes
 * and CNIs that clean the directory (Cilium renames foreign *.conf/*.conflist/*.json) leave it alone.
 */
export const STATUS_FILE = '.weft-cni-install.status';

export type InstallStatusState = 'chained' | 'contested' | 'no-config' | 'unparseable';

export interface InstallStatus {
  readonly state: InstallStatusState;
  readonly file?: string;
  /** While contested: reverts within the window, and the weft error code, message and hint. */
  readonly reverts?: number;
  readonly code?: string;
  readonly message?: string;
  readonly hint?: string;
  /** While contested, when install-cni recognised it: the other writer and the setting to change (other-writer.ts). */
  readonly writer?: string;
  readonly setting?: string;
  readonly since: string;
}

export function writeStatus(confDir: string, status: InstallStatus): void {
  writeFileAtomic(join(confDir, STATUS_FILE), JSON.stringify(status) + '\n');
}

export function clearStatus(confDir: string): void {
  removeFile(join(confDir, STATUS_FILE));
}
