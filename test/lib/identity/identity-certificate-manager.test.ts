// Pins the workload certificate lifecycle: concurrent requests for one identity make one CSR, renewal
// fires at half-life (fake clock), a failed renewal keeps the old certificate and retries with backoff,
// a failed first request is not repeated before its backoff delay, and the expiry shows as a metric.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId, type Certifier } from '../../../lib/identity/index.js';
import { hasCode } from '../../../lib/errors/index.js';

const id = SpiffeId.of('cluster.local', 'demo', 'frontend');

class CountingCertifier implements Certifier {
  calls = 0;
  failNext = 0;
  constructor(private readonly inner: Certifier) {}
  async certify(csr: string, identity: SpiffeId, lifetime: number): Promise<string[]> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('control plane unavailable');
    }
    return this.inner.certify(csr, identity, lifetime);
  }
}

/** Lets real async work (WebCrypto runs on the threadpool) finish while timers stay fake. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await settle();
  expect(cond()).toBe(true);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('CertificateManager', () => {
  it('coalesces concurrent requests for the same identity', async () => {
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    const mgr = new CertificateManager({ certifier });
    const certs = await Promise.all(Array.from({ length: 20 }, () => mgr.get(id)));
    expect(certifier.calls).toBe(1);
    expect(new Set(certs).size).toBe(1);
    expect(certs[0].identity.equals(id)).toBe(true);
    expect(await mgr.get(id)).toBe(certs[0]);
    expect(certifier.calls).toBe(1);
    mgr.close();
  });

  it('renews at half-life', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    const mgr = new CertificateManager({ certifier, lifetimeSeconds: 3600, renewJitter: 0.05 });
    const first = await mgr.get(id);
    const life = first.notAfter.getTime() - first.notBefore.getTime();
    const halfLifeAt = first.notBefore.getTime() + life / 2;
    // Just before the earliest jittered renewal point nothing happens.
    vi.advanceTimersByTime(halfLifeAt - Date.now() - life * 0.06);
    await settle();
    expect(certifier.calls).toBe(1);
    const renewed = new Promise((r) => mgr.once('renewed', r));
    vi.advanceTimersByTime(life * 0.12);
    await until(() => certifier.calls === 2);
    await renewed;
    const second = mgr.cached(id)!;
    expect(second).not.toBe(first);
    expect(second.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    mgr.close();
  });

  it('keeps the old certificate and retries with backoff when renewal fails', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    const mgr = new CertificateManager({ certifier, lifetimeSeconds: 3600, retry: { initialMs: 1000, maxMs: 8000 } });
    const errors: unknown[] = [];
    mgr.on('error', (_i: SpiffeId, err: unknown) => errors.push(err));
    const first = await mgr.get(id);
    certifier.failNext = 3;
    vi.advanceTimersByTime(first.notAfter.getTime() - Date.now() - 60_000);
    await until(() => certifier.calls === 2);
    expect(await mgr.get(id)).toBe(first); // still valid: served while retrying
    for (let attempt = 3; attempt <= 5; attempt++) {
      vi.advanceTimersByTime(8000);
      await until(() => certifier.calls === attempt);
    }
    await until(() => mgr.cached(id) !== first);
    expect(errors).toHaveLength(3);
    expect(hasCode(errors[0], 'ERR_WEFT_CERT_ISSUE_FAILED')).toBe(true);
    mgr.close();
  });

  it('reports seconds to expiry per identity', async () => {
    const registry = new Registry();
    const mgr = new CertificateManager({
      certifier: new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })),
      registry,
      lifetimeSeconds: 7200,
    });
    await mgr.get(id);
    const text = await registry.metrics();
    const m = /weft_workload_certificate_expiry_seconds\{identity="spiffe:\/\/cluster.local\/ns\/demo\/sa\/frontend"\} ([\d.]+)/.exec(text);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(7000);
    expect(Number(m![1])).toBeLessThanOrEqual(7200);
    mgr.close();
  });

  it('fails a request with a typed error when the certifier fails and nothing is held, and retries after the backoff', async () => {
    const certifier = new CountingCertifier(new LocalCertifier(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    certifier.failNext = 1;
    const mgr = new CertificateManager({ certifier, retry: { initialMs: 1000, maxMs: 8000 } });
    let caught: unknown;
    try {
      await mgr.get(id);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_WEFT_CERT_ISSUE_FAILED')).toBe(true);
    // Within the backoff delay the same error comes back without another Certify call.
    await expect(mgr.get(id)).rejects.toBe(caught);
    expect(certifier.calls).toBe(1);
    vi.advanceTimersByTime(1000);
    await expect(mgr.get(id)).resolves.toBeDefined();
    expect(certifier.calls).toBe(2);
    mgr.close();
  });
});
