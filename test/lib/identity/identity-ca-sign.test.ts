// Pins what a workload certificate looks like and when the CA refuses to sign: empty subject, critical
// URI SAN, serverAuth+clientAuth, digitalSignature, positive 128-bit serial, capped lifetime, notBefore
// backdated 5 min; a CSR for another identity or with another key type is refused with a typed error.
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, beforeAll } from 'vitest';
import { x509 } from '../../../lib/identity/crypto.js';
import { CertificateAuthority, SpiffeId, createCsr, generateKeyPair, TrustBundle, CLOCK_SKEW_SECONDS, importPrivateKeyPem, exportPrivateKeyPem } from '../../../lib/identity/index.js';
import { hasCode } from '../../../lib/errors/index.js';

const frontend = SpiffeId.of('cluster.local', 'demo', 'frontend');

async function rejects(p: Promise<unknown>, code: Parameters<typeof hasCode>[1]): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toBeDefined();
  expect(hasCode(caught, code), `got ${String((caught as Error)?.message)}`).toBe(true);
}

describe('CertificateAuthority.sign', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  });

  it('issues a leaf with the workload-certificate profile', async () => {
    const before = Date.now();
    const keys = await generateKeyPair();
    const { certChainPem } = await ca.sign(await createCsr(frontend, keys), { identity: frontend });
    expect(certChainPem).toHaveLength(1); // a root CA sends no intermediates
    const leaf = new X509Certificate(certChainPem[0]);
    expect(leaf.subject).toBeUndefined();
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/demo/sa/frontend');
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    expect(before - notBefore).toBeGreaterThanOrEqual(CLOCK_SKEW_SECONDS * 1000 - 2000);
    expect(notAfter - before).toBeLessThanOrEqual(24 * 3600 * 1000 + 2000);
    expect(notAfter - before).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
    const parsed = new x509.X509Certificate(certChainPem[0]);
    const san = parsed.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(parsed.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    // Positive, 16 bytes, random.
    expect(parsed.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    const other = new x509.X509Certificate((await ca.sign(await createCsr(frontend, keys), { identity: frontend })).certChainPem[0]);
    expect(other.serialNumber).not.toBe(parsed.serialNumber);
    await new TrustBundle(ca.rootsPem).verifyChain(certChainPem);
  });

  it('caps the lifetime at the maximum', async () => {
    const keys = await generateKeyPair();
    const { certChainPem } = await ca.sign(await createCsr(frontend, keys), { identity: frontend, lifetimeSeconds: 365 * 86400 });
    const leaf = new X509Certificate(certChainPem[0]);
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000 + 2000);
    const short = new X509Certificate((await ca.sign(await createCsr(frontend, keys), { identity: frontend, lifetimeSeconds: 3600 })).certChainPem[0]);
    expect(Date.parse(short.validTo) - Date.now()).toBeLessThanOrEqual(3600 * 1000 + 2000);
  });

  it('refuses a CSR for another identity', async () => {
    const keys = await generateKeyPair();
    const csr = await createCsr(SpiffeId.of('cluster.local', 'demo', 'backend'), keys);
    await rejects(ca.sign(csr, { identity: frontend }), 'ERR_WEFT_CSR_IDENTITY_MISMATCH');
  });

  it('refuses a CSR with a non-P-256 key', async () => {
    const rsa = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    ));
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys: rsa,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: frontend.toString() }], true)],
    });
    await rejects(ca.sign(csr.toString('pem'), { identity: frontend }), 'ERR_WEFT_CSR_KEY_UNSUPPORTED');
  });

  it('refuses a CSR with extra names, no SAN, or a non-SPIFFE URI', async () => {
    const keys = await generateKeyPair();
    const mk = async (names: x509.JsonGeneralNames | null) =>
      (
        await x509.Pkcs10CertificateRequestGenerator.create({
          keys,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
          extensions: names ? [new x509.SubjectAlternativeNameExtension(names, true)] : [],
        })
      ).toString('pem');
    await rejects(ca.sign(await mk([{ type: 'url', value: frontend.toString() }, { type: 'dns', value: 'evil.example' }]), { identity: frontend }), 'ERR_WEFT_CSR_SAN');
    await rejects(ca.sign(await mk(null), { identity: frontend }), 'ERR_WEFT_CSR_SAN');
    await rejects(ca.sign(await mk([{ type: 'url', value: 'spiffe://cluster.local/ns/demo/sa/../x' }]), { identity: frontend }), 'ERR_WEFT_CSR_SAN');
    await rejects(ca.sign(await mk([{ type: 'dns', value: 'frontend.demo' }]), { identity: frontend }), 'ERR_WEFT_CSR_SAN');
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const keys = await generateKeyPair();
    const pem = await createCsr(frontend, keys);
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 5] = der[der.length - 5] ^ 0x01; // flip a bit in the signature value
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    let caught: unknown;
    try {
      await ca.sign(tampered, { identity: frontend });
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_WEFT_CSR_BAD_SIGNATURE') || hasCode(caught, 'ERR_WEFT_CSR_MALFORMED')).toBe(true);
  });

  it('refuses oversize and garbage input', async () => {
    await rejects(ca.sign('x'.repeat(100_000), { identity: frontend }), 'ERR_WEFT_CSR_TOO_LARGE');
    await rejects(ca.sign('not a csr', { identity: frontend }), 'ERR_WEFT_CSR_MALFORMED');
    await rejects(ca.sign(42 as unknown as string, { identity: frontend }), 'ERR_WEFT_CSR_MALFORMED');
  });

  it('loads a given intermediate and sends it with every leaf', async () => {
    // An operator's root signs an intermediate for weft (the "bring your own CA" path).
    const root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', commonName: 'corp root' });
    const interKeys = await generateKeyPair();
    const interCert = await x509.X509CertificateGenerator.create({
      serialNumber: '0a',
      subject: 'CN=weft intermediate',
      issuer: new x509.X509Certificate(root.certPem).subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      publicKey: interKeys.publicKey,
      signingKey: await importPrivateKeyPem(root.keyPem),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    const inter = await CertificateAuthority.load({
      certChainPem: interCert.toString('pem') + '\n' + root.certPem,
      keyPem: await exportPrivateKeyPem(interKeys.privateKey),
    });
    expect(inter.rootsPem).toEqual(root.rootsPem);
    const keys = await generateKeyPair();
    const { certChainPem } = await inter.sign(await createCsr(frontend, keys), { identity: frontend });
    expect(certChainPem).toHaveLength(2);
    await new TrustBundle(root.rootsPem).verifyChain(certChainPem);
  });

  it('refuses CA material that is not a CA, lacks its root, or whose key does not match', async () => {
    const other = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    await rejects(CertificateAuthority.load({ certChainPem: ca.certPem, keyPem: other.keyPem }), 'ERR_WEFT_CA_INVALID');
    const keys = await generateKeyPair();
    const leaf = (await ca.sign(await createCsr(frontend, keys), { identity: frontend })).certChainPem[0];
    await rejects(CertificateAuthority.load({ certChainPem: leaf + ca.certPem, keyPem: ca.keyPem }), 'ERR_WEFT_CA_INVALID');
    await rejects(CertificateAuthority.load({ certChainPem: 'nothing', keyPem: ca.keyPem }), 'ERR_WEFT_CA_INVALID');
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(createPrivateKey(rsaKey).asymmetricKeyType).toBe('rsa');
    await rejects(CertificateAuthority.load({ certChainPem: ca.certPem, keyPem: rsaKey }), 'ERR_WEFT_CA_INVALID');
    // Round trip of its own material works.
    const again = await CertificateAuthority.load({ certChainPem: ca.certPem, keyPem: ca.keyPem });
    expect(again.rootsPem).toEqual(ca.rootsPem);
  });
});
