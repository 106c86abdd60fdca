import { isAbsolute, relative, resolve } from 'node:path';
import { WeftError } from './errors/index.js';

/**
 * Joins `parts` under `root` and refuses (ERR_WEFT_PATH_OUTSIDE_ROOT) a result that is not strictly
 * below it. Every file name built from a name someone else chose (a manifest's kind, namespace or
 * name, a ConfigMap key, a command-line argument) goes through here, so that a `..` or `/` that
 * slipped past validation can never make a root process write elsewhere.
 */
export function joinInside(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const full = resolve(base, ...parts);
  const rel = relative(base, full);
  if (rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw new WeftError('ERR_WEFT_PATH_OUTSIDE_ROOT', { path: full, root: base });
  return full;
}
