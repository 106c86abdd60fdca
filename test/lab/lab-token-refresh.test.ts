// Pins the lab kubelet's token manager (lab/token-refresh.ts): a projected ServiceAccount token is requested
// again at 80 % of its lifetime and at least daily, a failed request is retried with backoff while the old
// token lives, a restarted container's volume replaces the schedule instead of adding one, and nothing is
// requested once the pod stops. The failure it guards: a lab whose pods keep the token of their start (the
// chart's agents ask for 12 h), after which every node agent fails to renew its certificates.
// On fake time (test/support/fake-clock.ts): the lifetimes are hours.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/telemetry/log.js';
import { REFRESH_AT_MOST_MS, TokenRefresher, type MintedToken } from '../../lab/token-refresh.js';
import { FakeClock } from '../support/fake-clock.js';

const HOUR = 3600_000;

/** A TokenRequest stand-in on the fake clock: each call is recorded at its time; `fail` makes the next calls fail. */
function issuer(clock: FakeClock, lifetimeMs: number) {
  const calls: number[] = [];
  let failures = 0;
  return {
    calls,
    failNext(n: number) {
      failures = n;
    },
    mint: (): Promise<MintedToken> => {
      calls.push(clock.now());
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('the API server is away'));
      }
      return Promise.resolve({ issuedAtMs: clock.now(), expiresAtMs: clock.now() + lifetimeMs });
    },
  };
}

/** Lets the mint promises of the timers that just fired settle. */
const settle = () => new Promise((r) => setImmediate(r));

describe('the lab kubelet keeps projected ServiceAccount tokens fresh', () => {
  it('requests a 12 h token again at 80 % of its lifetime, then every 9.6 h, never earlier', async () => {
    const clock = new FakeClock();
    const api = issuer(clock, 12 * HOUR);
    const tokens = new TokenRefresher({ log: silentLogger, clock });
    await tokens.start('/v/weft-token/token', api.mint);
    expect(api.calls).toEqual([0]);
    clock.advance(9.6 * HOUR - 1);
    await settle();
    expect(api.calls).toEqual([0]);
    clock.advance(1);
    await settle();
    expect(api.calls).toEqual([0, 9.6 * HOUR]);
    clock.advance(9.6 * HOUR);
    await settle();
    expect(api.calls).toEqual([0, 9.6 * HOUR, 19.2 * HOUR]);
    tokens.stop();
  });

  it('requests a token that lives a year (an extended expiry) again within a day', async () => {
    const clock = new FakeClock();
    const api = issuer(clock, 365 * 24 * HOUR);
    const tokens = new TokenRefresher({ log: silentLogger, clock });
    await tokens.start('/v/t', api.mint);
    clock.advance(REFRESH_AT_MOST_MS);
    await settle();
    expect(api.calls).toEqual([0, REFRESH_AT_MOST_MS]);
    tokens.stop();
  });

  it('retries a failed request with growing waits while the old token lives, then goes back to its schedule', async () => {
    const clock = new FakeClock();
    const api = issuer(clock, 10 * HOUR);
    const tokens = new TokenRefresher({ log: silentLogger, clock, retry: { initialMs: 1000, maxMs: 8000 } });
    await tokens.start('/v/t', api.mint);
    api.failNext(4);
    clock.advance(8 * HOUR);
    await settle();
    for (let i = 0; i < 4; i++) {
      expect(clock.advanceToNext()).toBe(true);
      await settle();
    }
    expect(api.calls).toHaveLength(6);
    const retries = api.calls.slice(1);
    const gaps = retries.slice(1).map((t, i) => t - retries[i]);
    // Full jitter: each wait in [ceiling/2, ceiling], ceilings 1, 2, 4, 8 s.
    gaps.forEach((g, i) => {
      const ceiling = Math.min(8000, 1000 * 2 ** i);
      expect(g).toBeGreaterThanOrEqual(ceiling / 2);
      expect(g).toBeLessThanOrEqual(ceiling);
    });
    // The fifth request succeeded: the next one is 8 h after it.
    const last = api.calls.at(-1)!;
    expect(clock.pending).toBe(1);
    clock.advance(8 * HOUR);
    await settle();
    expect(api.calls.at(-1)).toBe(last + 8 * HOUR);
    tokens.stop();
  });

  it('a restarted container replaces the schedule of its token file; a stopped pod requests nothing more', async () => {
    const clock = new FakeClock();
    const api = issuer(clock, 10 * HOUR);
    const tokens = new TokenRefresher({ log: silentLogger, clock });
    await tokens.start('/v/t', api.mint);
    clock.advance(HOUR);
    await tokens.start('/v/t', api.mint);
    await tokens.start('/v/other', api.mint);
    expect(clock.pending).toBe(2);
    tokens.stop();
    expect(clock.pending).toBe(0);
    clock.advance(48 * HOUR);
    await settle();
    expect(api.calls).toEqual([0, HOUR, HOUR]);
  });

  it('a request in flight when the pod stops schedules nothing when it answers', async () => {
    const clock = new FakeClock();
    const api = issuer(clock, 10 * HOUR);
    let answer!: (t: MintedToken) => void;
    let asked = 0;
    const tokens = new TokenRefresher({ log: silentLogger, clock });
    await tokens.start('/v/t', () => (++asked === 1 ? api.mint() : new Promise<MintedToken>((r) => (answer = r))));
    clock.advance(8 * HOUR);
    expect(asked).toBe(2);
    tokens.stop();
    answer({ issuedAtMs: clock.now(), expiresAtMs: clock.now() + HOUR });
    await settle();
    expect(clock.pending).toBe(0);
  });
});
