import { isWeftError } from '../lib/errors/index.js';

/** Prints an error the way every command does (what was wrong, then what to do) and exits. */
export function exitWithError(err: unknown): never {
  if (isWeftError(err)) {
    console.error(`error ${err.code}: ${err.message}\n  hint: ${err.hint}`);
    process.exit(err.code === 'ERR_WEFT_NOT_ROOT' || err.code === 'ERR_WEFT_CONFIG_INVALID' ? 2 : 1);
  }
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
