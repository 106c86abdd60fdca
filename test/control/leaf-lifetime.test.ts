// Pins issue 13 item 8 (the rest): the leaf lifetime is configured once on the control plane
// (--leaf-lifetime / WEFT_CONTROL_LEAF_LIFETIME, 10 min–7 d, default 24 h) and is what data planes get,
// since they ask for none; and an issuing CA that expires before one full leaf lifetime shows in the
// control plane's metrics (weft_control_ca_expiry_seconds, weft_control_ca_expires_before_leaf_lifetime).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseControlArgs } from '../../control/config.js';
import { DirectoryCaBackend, loadOrCreateCa } from '../../control/ca-store.js';
import { registerCaExpiryMetrics } from '../../control/ca-expiry-metrics.js';
import { CertificateAuthority, CertificateManager, LocalCertifier, SpiffeId } from '../../lib/identity/index.js';

const id = SpiffeId.of('cluster.local', 'shop', 'cart');
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function leafSecondsFrom(leafLifetimeSeconds: number | undefined): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'weft-t-leaf-'));
  dirs.push(dir);
  const { ca } = await loadOrCreateCa({ backend: new DirectoryCaBackend(dir), trustDomain: 'cluster.local', leafLifetimeSeconds });
  // A data plane's manager with no lifetime of its own, as the node agent and the waypoint create it.
  const mgr = new CertificateManager({ certifier: new LocalCertifier(ca) });
  const cert = await mgr.get(id);
  mgr.close();
  return (cert.notAfter.getTime() - Date.now()) / 1000;
}

describe('leaf certificate lifetime (control plane)', () => {
  it('parses --leaf-lifetime and WEFT_CONTROL_LEAF_LIFETIME, 24 h by default, the flag winning', async () => {
    expect((await parseControlArgs(['--source', 'kube'], {})).leafLifetimeSeconds).toBe(86_400);
    expect((await parseControlArgs(['--source', 'kube', '--leaf-lifetime', '1h'], {})).leafLifetimeSeconds).toBe(3600);
    expect((await parseControlArgs(['--source', 'kube', '--leaf-lifetime=90m'], {})).leafLifetimeSeconds).toBe(5400);
    expect((await parseControlArgs(['--source', 'kube'], { WEFT_CONTROL_LEAF_LIFETIME: '7d' })).leafLifetimeSeconds).toBe(604_800);
    expect((await parseControlArgs(['--source', 'kube', '--leaf-lifetime', '600'], { WEFT_CONTROL_LEAF_LIFETIME: '2d' })).leafLifetimeSeconds).toBe(600);
  });

  it.each([
    ['under 10 min', '9m', /between 10m \(600 s\) and 7d \(604800 s\)/],
    ['over 7 d', '8d', /between 10m/],
    ['not a duration', 'a day', /want a duration such as 24h/],
  ])('refuses a lifetime %s with ERR_WEFT_CONFIG_INVALID naming the flag', async (_what, value, message) => {
    const err = await parseControlArgs(['--source', 'kube', '--leaf-lifetime', value], {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WEFT_CONFIG_INVALID', message: expect.stringContaining('--leaf-lifetime') as string });
    expect((err as Error).message).toMatch(message);
    await expect(parseControlArgs(['--source', 'kube'], { WEFT_CONTROL_LEAF_LIFETIME: value })).rejects.toThrow(/WEFT_CONTROL_LEAF_LIFETIME/);
  });

  it('a data plane gets the configured lifetime: 1 h, 3 d, and 24 h when unset', async () => {
    expect(await leafSecondsFrom(3600)).toBeCloseTo(3600, -2);
    expect(await leafSecondsFrom(3 * 86_400)).toBeCloseTo(3 * 86_400, -2);
    expect(await leafSecondsFrom(undefined)).toBeCloseTo(86_400, -2);
  });
});

describe('CA expiry metrics (control plane)', () => {
  async function scrape(ca: CertificateAuthority): Promise<{ expiry: number; before: number }> {
    const registry = new Registry();
    registerCaExpiryMetrics(registry, () => ca);
    const text = await registry.metrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return { expiry: value('weft_control_ca_expiry_seconds'), before: value('weft_control_ca_expires_before_leaf_lifetime') };
  }

  it('report the seconds the issuing CA has left and whether that is less than one leaf lifetime', async () => {
    const shortCa = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 0.5 }); // 12 h
    const m = await scrape(shortCa);
    expect(m.expiry).toBeGreaterThan(12 * 3600 - 120);
    expect(m.expiry).toBeLessThanOrEqual(12 * 3600);
    expect(m.before).toBe(1); // 12 h left < 24 h leaves
    const shortLeaves = await CertificateAuthority.load({ certChainPem: shortCa.certPem, keyPem: shortCa.keyPem, maxLifetimeSeconds: 3600 });
    expect((await scrape(shortLeaves)).before).toBe(0); // 12 h left > 1 h leaves
    expect((await scrape(await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }))).before).toBe(0);
  });
});
