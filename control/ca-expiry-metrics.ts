import { Gauge, type Registry } from 'prom-client';
import type { CertificateAuthority } from '../lib/identity/index.js';
import type { Logger } from '../lib/telemetry/log.js';

// How close the issuing CA is to its expiry, next to the leaf lifetime it issues (issue 13 item 8). A CA that
// expires before a full leaf lifetime caps every leaf at its own notAfter: leaves get shorter with each
// renewal and, once the CA is gone, nothing can be issued. `weft check` reports the same from the CA Secret.

/** Seconds the issuing CA has left, and whether that is less than one leaf lifetime. */
export function caExpiry(ca: CertificateAuthority, now = Date.now()): { secondsLeft: number; beforeLeafLifetime: boolean } {
  const secondsLeft = (ca.notAfter.getTime() - now) / 1000;
  return { secondsLeft, beforeLeafLifetime: secondsLeft < ca.leafLifetimeSeconds };
}

/** `weft_control_ca_expiry_seconds` and `weft_control_ca_expires_before_leaf_lifetime`, read at scrape time. */
export function registerCaExpiryMetrics(registry: Registry, ca: () => CertificateAuthority | undefined): void {
  new Gauge({
    name: 'weft_control_ca_expiry_seconds',
    help: 'Seconds until the issuing CA certificate expires (negative once expired)',
    registers: [registry],
    collect() {
      const current = ca();
      if (current !== undefined) this.set(caExpiry(current).secondsLeft);
    },
  });
  new Gauge({
    name: 'weft_control_ca_expires_before_leaf_lifetime',
    help: '1 when the issuing CA expires before one full leaf lifetime (--leaf-lifetime) from now: leaves are cut short; rotate the CA (docs/install.md)',
    registers: [registry],
    collect() {
      const current = ca();
      if (current !== undefined) this.set(caExpiry(current).beforeLeafLifetime ? 1 : 0);
    },
  });
}

/** Logs once at start when the CA is already too close to its expiry (the metric keeps saying so). */
export function warnIfCaExpiresBeforeLeafLifetime(ca: CertificateAuthority, log: Logger): void {
  const { secondsLeft, beforeLeafLifetime } = caExpiry(ca);
  if (!beforeLeafLifetime) return;
  log.warn(
    { caNotAfter: ca.notAfter.toISOString(), caSecondsLeft: Math.round(secondsLeft), leafLifetimeSeconds: ca.leafLifetimeSeconds },
    'the issuing CA expires before one leaf lifetime: leaves are capped at its expiry; rotate the CA',
  );
}
