import { isWeftError } from '../../lib/errors/index.js';
import type { FindingCode } from '../check/findings.js';

/** One line of `weft check`: what was checked, how it went, and the fix when it did not pass. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  /** A stable code scripts key on (cli/check/findings.ts, docs/check.md). */
  code?: FindingCode;
}

export function ok(check: string, message: string): CheckResult {
  return { check, status: 'ok', message };
}

export function warn(check: string, message: string, fix: string, code?: FindingCode): CheckResult {
  return { check, status: 'warn', message, fix, ...(code === undefined ? {} : { code }) };
}

export function fail(check: string, message: string, fix: string, code?: FindingCode): CheckResult {
  return { check, status: 'fail', message, fix, ...(code === undefined ? {} : { code }) };
}

export function skip(check: string, message: string): CheckResult {
  return { check, status: 'skip', message };
}

/** Runs one check; an error (API refused, forbidden...) becomes a failed line carrying the error's hint. */
export async function guarded(check: string, body: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await body();
  } catch (err) {
    // The code first: what scripts and the docs key on, and what the control plane logs for the same fault.
    if (isWeftError(err)) return fail(check, `${err.code}: ${err.message}`, err.hint);
    return fail(check, err instanceof Error ? err.message : String(err), 'This looks like a bug in weft check; please report it.');
  }
}

const MARKS: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✖', skip: '-' };

export function renderCheck(r: CheckResult): string[] {
  const lines = [`${MARKS[r.status]} ${r.check}: ${r.message}${r.code === undefined ? '' : ` [${r.code}]`}`];
  if (r.fix !== undefined && r.status !== 'ok') lines.push(`    fix: ${r.fix}`);
  return lines;
}

/** Simple dotted versions: "v1.6.2" → [1, 6, 2]; undefined when unparsable. */
export function parseVersion(v: string | undefined): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v ?? '');
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}
