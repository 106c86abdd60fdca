// Gateway API durations (GEP-2257) as route timeouts, retry backoff and the retry annotation read them: one parser.
import { describe, expect, it } from 'vitest';
import { gatewayDurationMs } from '../../lib/gateway-duration.js';

describe('gatewayDurationMs', () => {
  it('adds up one to four parts of h, m, s and ms', () => {
    expect(gatewayDurationMs('500ms')).toBe(500);
    expect(gatewayDurationMs('10s')).toBe(10_000);
    expect(gatewayDurationMs('1h30m')).toBe(5_400_000);
    expect(gatewayDurationMs('1h1m1s1ms')).toBe(3_661_001);
    expect(gatewayDurationMs('0s')).toBe(0);
  });

  it('refuses what GEP-2257 does not allow', () => {
    for (const bad of ['', '10', '1d', '1.5s', '-1s', '123456s', '1h1m1s1ms1h', ' 1s', '1S']) expect(gatewayDurationMs(bad), bad).toBeUndefined();
  });
});
