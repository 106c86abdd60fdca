import { WeftError } from '../errors/index.js';

// The workload (leaf) certificate lifetime the control plane issues: one parser and one set of bounds for
// weft-control's flag, its environment variable, and `weft check` (which reads the flag from the Deployment).

/** Default leaf lifetime (ARCHITECTURE.md: 24 h). */
export const DEFAULT_LEAF_LIFETIME_SECONDS = 24 * 3600;
/** Shorter leaves renew every few minutes per identity: Certify load grows with 1/lifetime. */
export const MIN_LEAF_LIFETIME_SECONDS = 600;
/** Longer leaves outlive a revoked identity too long (weft has no revocation lists). */
export const MAX_LEAF_LIFETIME_SECONDS = 7 * 24 * 3600;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `600`, `600s`, `10m`, `24h`, `7d` (also combined, `1h30m`) → seconds; anything else is
 * ERR_WEFT_CONFIG_INVALID naming `what`. Also the unit of `weft check`'s expiry thresholds.
 */
export function parseDurationSeconds(value: string, what: string): number {
  const text = value.trim();
  let seconds: number | undefined;
  if (/^[0-9]{1,9}$/.test(text)) seconds = Number(text);
  else if (/^([0-9]{1,9}[smhd])+$/.test(text)) {
    seconds = 0;
    for (const m of text.matchAll(/([0-9]+)([smhd])/g)) seconds += Number(m[1]) * UNIT_SECONDS[m[2] ?? 's'];
  }
  if (seconds === undefined) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `${what} ${JSON.stringify(value)}: want a duration such as 24h, 90m or 3600 (seconds)` });
  }
  return seconds;
}

/** parseDurationSeconds within [MIN_LEAF_LIFETIME_SECONDS, MAX_LEAF_LIFETIME_SECONDS]. */
export function parseLeafLifetime(value: string, what: string): number {
  const seconds = parseDurationSeconds(value, what);
  if (seconds < MIN_LEAF_LIFETIME_SECONDS || seconds > MAX_LEAF_LIFETIME_SECONDS) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', {
      reason: `${what} ${JSON.stringify(value)} is ${seconds} s: it must be between 10m (${MIN_LEAF_LIFETIME_SECONDS} s) and 7d (${MAX_LEAF_LIFETIME_SECONDS} s)`,
    });
  }
  return seconds;
}
