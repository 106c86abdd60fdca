// Pins that the CA's fast signing path (hand-encoded TBSCertificate from a per-CA template, node:crypto
// ECDSA) issues exactly the certificate profile @peculiar/x509 produced before: for the same serial,
// validity, key and identity the TBSCertificate is byte for byte the one the library encodes (root and
// intermediate CAs, UTCTime and GeneralizedTime), the signature verifies, and OpenSSL reads and verifies
// the chain as an X.509 v3 leaf with a critical URI SAN.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../../lib/identity/crypto.js';
import { CertificateAuthority, SpiffeId, createCsr, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from '../../../lib/identity/index.js';

const frontend = SpiffeId.of('cluster.local', 'demo', 'frontend');
const openssl = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));

/** The TBSCertificate: the first element of the outer SEQUENCE. */
function tbsOf(der: Buffer): Buffer {
  const skipHeader = (pos: number): { content: number; end: number } => {
    let len = der[pos + 1];
    let content = pos + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[content + i];
      content += n;
    }
    return { content, end: content + len };
  };
  const outer = skipHeader(0);
  return der.subarray(outer.content, skipHeader(outer.content).end);
}

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

/** What @peculiar/x509 encodes for the same inputs (the profile the CA had before its fast path). */
async function referenceTbs(ca: CertificateAuthority, leafPem: string, identity: SpiffeId): Promise<Buffer> {
  const leaf = new x509.X509Certificate(leafPem);
  const caCert = new x509.X509Certificate(ca.certPem);
  const ref = await x509.X509CertificateGenerator.create({
    serialNumber: leaf.serialNumber,
    subject: '',
    issuer: caCert.subjectName,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    publicKey: leaf.publicKey,
    signingKey: await importPrivateKeyPem(ca.keyPem),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.toString() }], true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return tbsOf(Buffer.from(ref.rawData));
}

describe('CA certificate profile (fast path)', () => {
  let root: CertificateAuthority;
  let inter: CertificateAuthority;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-t-ca-profile-'));
    root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const interKeys = await generateKeyPair();
    const interCert = await x509.X509CertificateGenerator.create({
      serialNumber: '0b',
      subject: 'O=corp, CN=weft intermediate',
      issuer: new x509.X509Certificate(root.certPem).subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      publicKey: interKeys.publicKey,
      signingKey: await importPrivateKeyPem(root.keyPem),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(new x509.X509Certificate(root.certPem), false),
      ],
    });
    inter = await CertificateAuthority.load({ certChainPem: interCert.toString('pem') + '\n' + root.certPem, keyPem: await exportPrivateKeyPem(interKeys.privateKey) });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('encodes the same TBSCertificate as @peculiar/x509, for a root and an intermediate CA', async () => {
    for (const ca of [root, inter]) {
      for (let i = 0; i < 5; i++) {
        const { certChainPem } = await ca.sign(await createCsr(frontend, await generateKeyPair()), { identity: frontend });
        const ours = tbsOf(derOf(certChainPem[0]));
        expect(ours.toString('hex')).toBe((await referenceTbs(ca, certChainPem[0], frontend)).toString('hex'));
        const leaf = new X509Certificate(certChainPem[0]);
        expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
        expect(leaf.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
      }
    }
  });

  it('uses GeneralizedTime from 2050 on, still the same encoding', async () => {
    const longRoot = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 40 * 365 });
    const keys = await generateKeyPair();
    const notAfter = new Date(Date.UTC(2051, 0, 2, 3, 4, 5));
    const { certChainPem } = await longRoot.issue(keys.publicKey, frontend, { notAfter });
    expect(new X509Certificate(certChainPem[0]).validTo).toBe('Jan  2 03:04:05 2051 GMT');
    expect(tbsOf(derOf(certChainPem[0])).toString('hex')).toBe((await referenceTbs(longRoot, certChainPem[0], frontend)).toString('hex'));
  });

  it.skipIf(openssl === undefined)('OpenSSL reads the leaf as X.509 v3 with the profile and verifies the chain (needs openssl)', async () => {
    const { certChainPem } = await inter.sign(await createCsr(frontend, await generateKeyPair()), { identity: frontend });
    expect(certChainPem).toHaveLength(2);
    const leafFile = path.join(dir, 'leaf.pem');
    const untrusted = path.join(dir, 'inter.pem');
    const rootFile = path.join(dir, 'root.pem');
    await writeFile(leafFile, certChainPem[0]);
    await writeFile(untrusted, certChainPem[1]);
    await writeFile(rootFile, root.rootsPem.join(''));
    const text = execFileSync(openssl!, ['x509', '-in', leafFile, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/demo\/sa\/frontend/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    const verified = execFileSync(openssl!, ['verify', '-x509_strict', '-CAfile', rootFile, '-untrusted', untrusted, leafFile], { encoding: 'utf8' });
    expect(verified.trim()).toBe(`${leafFile}: OK`);
  });
});
