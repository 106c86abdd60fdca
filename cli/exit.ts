import { WeftError, isWeftError, type WeftErrorCode } from '../lib/errors/index.js';

/**
 * How the CLI ends on an error: every error is printed with its ERR_WEFT_ code (yargs' usage errors and
 * stray Node errors included) and its hint, and exits 2 for bad usage or missing privileges, 1 otherwise.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Codes that mean the command was asked for something it must refuse: the input or the user's rights. */
const USAGE_CODES: ReadonlySet<WeftErrorCode> = new Set<WeftErrorCode>([
  'ERR_WEFT_CLI_USAGE',
  'ERR_WEFT_CLI_FORBIDDEN',
  'ERR_WEFT_CLI_PERMISSION_DENIED',
  'ERR_WEFT_CLI_LAB_AMBIGUOUS',
  'ERR_WEFT_CLI_LAB_UNSUPPORTED',
  'ERR_WEFT_NOT_ROOT',
  'ERR_WEFT_CONFIG_INVALID',
  'ERR_WEFT_LAB_NAME_INVALID',
  'ERR_WEFT_LAB_FIELD_INVALID',
]);

export function exitStatusOf(err: WeftError): number {
  return USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
}

/**
 * Any error as a WeftError: a file system refusal (EACCES/EPERM, e.g. writing a root-owned lab as another
 * user) is a privilege error; anything else that escaped a command without a code is a bug.
 */
export function asWeftError(err: unknown): WeftError {
  if (isWeftError(err)) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new WeftError('ERR_WEFT_CLI_PERMISSION_DENIED', { what: e.syscall ?? 'access', path: e.path ?? '(unknown path)', uid: process.getuid?.() ?? -1 }, { cause: err });
  }
  return new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: err instanceof Error ? err.message : String(err) }, { cause: err });
}

/** The two lines every command prints for an error: what was wrong (with the code), then what to do. */
export function formatError(err: WeftError): string {
  return `error ${err.code}: ${err.message}\n  hint: ${err.hint}`;
}

/** Prints an error the way every command does and exits with its status. */
export function exitWithError(err: unknown): never {
  const weft = asWeftError(err);
  console.error(formatError(weft));
  process.exit(exitStatusOf(weft));
}
