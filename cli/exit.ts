import { isWeftError, type WeftErrorCode } from '../lib/errors/index.js';

/** Codes that mean the command was asked for something it must refuse (exit 2, as yargs' usage errors). */
const USAGE_CODES: ReadonlySet<WeftErrorCode> = new Set<WeftErrorCode>(['ERR_WEFT_NOT_ROOT', 'ERR_WEFT_CONFIG_INVALID', 'ERR_WEFT_LAB_FIELD_INVALID']);

/** Prints an error the way every command does (what was wrong, then what to do) and exits. */
export function exitWithError(err: unknown): never {
  if (isWeftError(err)) {
    console.error(`error ${err.code}: ${err.message}\n  hint: ${err.hint}`);
    process.exit(USAGE_CODES.has(err.code) ? 2 : 1);
  }
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
