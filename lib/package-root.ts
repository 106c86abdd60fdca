import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** weft's npm name: scoped, since the unscoped `weft` on npm is an unrelated package. The binary is `weft`. */
export const PACKAGE_NAME = '@weft-mesh/weft';

/**
 * The weft package's root directory (where package.json, helm/ and .tools/ live), found by walking up
 * from this module: the same code runs from cli/ (tests) and from dist/cli/ (the built CLI).
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
}

export function clientVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
