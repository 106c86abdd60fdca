// Pins the renewal storm near CA expiry (a node agent made 6 836 Certify calls in 30 s): the CA caps a
// leaf at its own expiry, so with notBefore backdated 5 min, half-life of a leaf capped 4 min ahead was
// already behind and the manager renewed at once, got the same capped leaf, and looped. Now renewal is
// never planned in the past (at half of what is left, at least MIN_RENEWAL_DELAY_MS away), a failing
// identity is not asked again before its jittered backoff (nor before the server's retry-after), and the
// leaf lifetime asked for is bounded. Fake timers throughout.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId, type Certifier } from '../../../lib/identity/index.js';
import { MAX_LEAF_LIFETIME_SECONDS, MIN_LEAF_LIFETIME_SECONDS } from '../../../lib/identity/certificate-manager.js';
import { WeftError } from '../../../lib/errors/index.js';

const id = SpiffeId.of('cluster.local', 'demo', 'frontend');

class CountingCertifier implements Certifier {
  calls = 0;
  /** Fake-clock times of each call. */
  at: number[] = [];
  lifetimes: number[] = [];
  fail: (() => Error) | undefined;
  constructor(private readonly inner: Certifier) {}
  async certify(csr: string, identity: SpiffeId, lifetime: number): Promise<string[]> {
    this.calls++;
    this.at.push(Date.now());
    this.lifetimes.push(lifetime);
    if (this.fail) throw this.fail();
    return this.inner.certify(csr, identity, lifetime);
  }
}

/** Lets real async work (key generation, signing) finish while timers stay fake. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Advances fake time by `ms` in `step` slices, letting async work run in between; stops early once `done`.
 * `each` runs before every slice and is awaited, so a request it starts (key generation is real work) is
 * over before the clock moves on: the count of calls does not depend on how busy the machine is.
 */
async function run(ms: number, step: number, each?: () => Promise<unknown>, done?: () => boolean): Promise<void> {
  for (let t = 0; t < ms && done?.() !== true; t += step) {
    await each?.();
    vi.advanceTimersByTime(step);
    await settle();
  }
}

/** Lets slow real work (key generation on a busy machine) finish; bounded. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await settle();
  expect(cond()).toBe(true);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('CertificateManager near CA expiry', () => {
  it('makes a handful of Certify calls in 30 s when the CA expires in 4 min, not a loop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 4 / 1440 });
    const certifier = new CountingCertifier(new LocalCertifier(ca));
    const mgr = new CertificateManager({ certifier });
    const first = await mgr.get(id);
    expect(first.notAfter.getTime()).toBe(ca.notAfter.getTime()); // capped by the CA
    await run(30_000, 250);
    expect(certifier.calls).toBeLessThanOrEqual(3);
    // It still renews before the leaf expires (at about half of what is left: ~2 min).
    await run(150_000, 1_000, undefined, () => certifier.calls >= 2);
    await until(() => certifier.calls >= 2);
    expect(certifier.at[1] - certifier.at[0]).toBeGreaterThan(100_000);
    expect(certifier.at[1]).toBeLessThan(first.notAfter.getTime());
    expect(certifier.calls).toBeLessThanOrEqual(6);
    mgr.close();
  });

  it('does not ask again for a failing identity before its backoff, however often it is asked', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    certifier.fail = () => new Error('control plane unavailable');
    const mgr = new CertificateManager({ certifier, retry: { initialMs: 1000, maxMs: 60_000 } });
    // A readiness loop asking every 200 ms, as the node agent's does.
    await run(30_000, 200, () => mgr.get(id).catch(() => undefined));
    // 1 + retries after ≤1, ≤2, ≤4, ≤8, ≤16 s: at most 6 in 30 s (it was 150).
    expect(certifier.calls).toBeGreaterThanOrEqual(3);
    expect(certifier.calls).toBeLessThanOrEqual(6);
    mgr.close();
  });

  it("waits at least the server's retry-after", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    certifier.fail = () => new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: id.toString(), reason: 'RESOURCE_EXHAUSTED', retryAfterMs: 20_000 });
    const mgr = new CertificateManager({ certifier, retry: { initialMs: 100, maxMs: 1000 } });
    await run(19_000, 200, () => mgr.get(id).catch(() => undefined));
    expect(certifier.calls).toBe(1);
    certifier.fail = undefined;
    await run(60_000, 200, () => mgr.get(id).catch(() => undefined), () => certifier.calls >= 2);
    await until(() => mgr.cached(id) !== undefined);
    expect(certifier.calls).toBe(2);
    // The retry came at least the server's 20 s after the refused call.
    expect(certifier.at[1] - certifier.at[0]).toBeGreaterThanOrEqual(20_000);
    expect(mgr.cached(id)).toBeDefined();
    mgr.close();
  });

  it('asks for a bounded leaf lifetime, or none by default (the control plane\'s --leaf-lifetime applies)', async () => {
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const asked = async (lifetimeSeconds?: number): Promise<number> => {
      const certifier = new CountingCertifier(new LocalCertifier(ca));
      const mgr = new CertificateManager({ certifier, lifetimeSeconds });
      await mgr.get(id);
      mgr.close();
      return certifier.lifetimes[0];
    };
    expect(await asked()).toBe(0);
    expect(await asked(3600)).toBe(3600);
    expect(await asked(5)).toBe(MIN_LEAF_LIFETIME_SECONDS);
    expect(await asked(10 ** 9)).toBe(MAX_LEAF_LIFETIME_SECONDS);
  });
});
