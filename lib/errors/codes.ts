import type { ErrorSpec } from './spec.js';
import { coreCodes } from './codes/core.js';

/**
 * The one table of weft's error codes. Add an area by creating `codes/<area>.ts` and spreading it here;
 * `docs/errors.md` is generated from this table (`npm run gen:errors-doc`) and a test keeps them equal.
 */
export const codes = {
  ...coreCodes,
} as const;

export type WeftErrorCode = keyof typeof codes;

export function specOf(code: WeftErrorCode): ErrorSpec {
  return codes[code];
}
