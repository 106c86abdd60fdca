import { codes, type WeftErrorCode } from './codes.js';
import type { ErrorSpec, RefusalFlag } from './spec.js';

export { codes, type WeftErrorCode } from './codes.js';
export type { ErrorSpec, RefusalFlag } from './spec.js';

type Params = Readonly<Record<string, string | number | bigint | boolean | undefined>>;

// Shared across copies of this module (e.g. a bundled CNI plugin and the library) like undici's
// Symbol.for-based instanceof, so `isWeftError` holds whichever copy made the error.
const kWeftError = Symbol.for('weft.error');

/**
 * weft's one error class. `code` is stable and documented in docs/errors.md; match on it, never on the
 * message. The message says what was wrong; `hint` says what to do.
 */
export class WeftError extends Error {
  readonly code: WeftErrorCode;
  readonly hint: string;
  readonly params: Params;
  readonly [kWeftError] = true;

  constructor(code: WeftErrorCode, params: Params = {}, options?: { cause?: unknown }) {
    const spec: ErrorSpec = codes[code];
    super(render(spec.message, params), options);
    this.name = 'WeftError';
    this.code = code;
    // Hints may name the same parameters as the message, so that the command they suggest runs as printed.
    this.hint = render(spec.hint, params);
    this.params = params;
  }

  get http(): number | undefined {
    return (codes[this.code] as ErrorSpec).http;
  }

  get grpc(): number | undefined {
    return (codes[this.code] as ErrorSpec).grpc;
  }

  get cni(): number | undefined {
    return (codes[this.code] as ErrorSpec).cni;
  }

  get flag(): RefusalFlag | undefined {
    return (codes[this.code] as ErrorSpec).flag;
  }

  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isWeftError(err: unknown): err is WeftError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kWeftError] === true;
}

/** True when `err` is a WeftError with the given code. */
export function hasCode(err: unknown, code: WeftErrorCode): err is WeftError {
  return isWeftError(err) && err.code === code;
}

function render(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}
