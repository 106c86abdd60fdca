/**
 * Suites that need root (network namespaces, nftables) or a tool that setup installs. Without it they do not
 * pass silently (ztunnel's namespaced tests did, and CI ran nothing for weeks): each such suite becomes one
 * failing test that says what is missing and how to run or opt out. A developer without root opts out
 * explicitly with WEFT_TEST_SKIP_ROOT=1; the suites then show as skipped with the reason.
 */
import { describe, it, type TestOptions } from 'vitest';

export const isRoot = process.getuid?.() === 0;
export const SKIP_ROOT_ENV = 'WEFT_TEST_SKIP_ROOT';

type Body = () => void;
type Options = TestOptions;

/** `describe` that needs `met`; otherwise fails with `why`, or skips when `optOut` is set. */
export function describeRequiring(met: boolean, why: string, optOut: string, title: string, options: Options | Body, body?: Body): void {
  const fn = (typeof options === 'function' ? options : body) as Body;
  const opts = typeof options === 'function' ? {} : options;
  if (met) {
    describe(title, opts, fn);
  } else if (process.env[optOut] === '1') {
    describe.skip(`${title} (skipped: ${why}; ${optOut}=1 is set)`, fn);
  } else {
    describe(title, () => {
      it(`requires: ${why}`, () => {
        throw new Error(`${title}: ${why}. Run the tests as root (sudo npm test), or set ${optOut}=1 to skip these suites on purpose.`);
      });
    });
  }
}

/** A suite that needs root: network namespaces, nftables, the lab. */
export function describeRoot(title: string, options: Options | Body, body?: Body): void {
  describeRequiring(isRoot, 'needs root (network namespaces)', SKIP_ROOT_ENV, title, options, body);
}
