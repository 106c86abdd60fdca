// Pins that the error table, its generated documentation and the WeftError class agree: a code added
// without regenerating docs/errors.md, or a malformed code, fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codes, WeftError, isWeftError, hasCode } from '../../lib/errors/index.js';
import { renderErrorsDoc } from '../../lib/errors/doc.js';

describe('error table', () => {
  it('every code reads ERR_WEFT_<AREA>_<WHAT> and has a message and a hint', () => {
    for (const [code, spec] of Object.entries(codes)) {
      expect(code).toMatch(/^ERR_WEFT_[A-Z0-9]+(_[A-Z0-9]+)+$/);
      expect(spec.message.length).toBeGreaterThan(5);
      expect(spec.hint.length).toBeGreaterThan(5);
    }
  });

  it('docs/errors.md is the generated table (run `npm run build:ts && npm run gen:errors-doc`)', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });

  it('WeftError renders its template and carries code, hint and statuses', () => {
    const err = new WeftError('ERR_WEFT_CORE_TIMEOUT', { what: 'connect', ms: 250 });
    expect(err.message).toBe('connect did not finish within 250 ms');
    expect(err.code).toBe('ERR_WEFT_CORE_TIMEOUT');
    expect(err.http).toBe(504);
    expect(err.flag).toBe('TIMEOUT');
    expect(isWeftError(err)).toBe(true);
    expect(hasCode(err, 'ERR_WEFT_CORE_TIMEOUT')).toBe(true);
    expect(isWeftError(new Error('x'))).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ code: 'ERR_WEFT_CORE_TIMEOUT' });
  });
});
