// Pins what an operator sees of a workload certificate (lib/identity/certificate-summary.ts, behind
// `weft get certificates`): the SPIFFE ID, the leaf's serial as openssl prints it, its validity, the time
// to expiry, and the SHA-256 fingerprint of the trust-bundle root it chains to (none when no root in the
// bundle issued it) — and never key material. Failure it guards: a summary that serialised the held
// WorkloadCertificate (its keyPem) into an admin answer.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SpiffeId, summarizeCertificate } from '../../../lib/identity/index.js';
import { mintCa, mintSelfSigned, mintWorkloadCert } from '../../support/pki.js';

describe('certificate summary', () => {
  it('identity, serial, validity, expiry and the root fingerprint; no key', async () => {
    const ca = await mintCa();
    const other = await mintCa();
    const cert = await mintWorkloadCert(ca, 'ex', 'client', { lifetimeSeconds: 3600 });
    const now = cert.notBefore.getTime() + 600_000;
    const s = summarizeCertificate(cert, [...other.rootsPem, ...ca.rootsPem], now);
    const leaf = new X509Certificate(cert.certChainPem[0]);
    const root = new X509Certificate(ca.rootsPem[0]);
    expect(s).toEqual({
      identity: 'spiffe://cluster.local/ns/ex/sa/client',
      serial: leaf.serialNumber.toLowerCase(),
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      expiresInSeconds: Math.round((cert.notAfter.getTime() - now) / 1000),
      rootFingerprint: root.fingerprint256,
      chainLength: 1,
    });
    expect(JSON.stringify(s)).not.toMatch(/PRIVATE KEY|BEGIN/);
  });

  it('no fingerprint when no root of the bundle issued the chain', async () => {
    const ca = await mintCa();
    const self = await mintSelfSigned(SpiffeId.of('cluster.local', 'ex', 'x'));
    expect(summarizeCertificate(self, ca.rootsPem).rootFingerprint).toBeUndefined();
    const cert = await mintWorkloadCert(ca, 'ex', 'client');
    expect(summarizeCertificate(cert, (await mintCa()).rootsPem).rootFingerprint).toBeUndefined();
  });
});
