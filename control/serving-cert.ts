import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { x509, subtle, ECDSA_SHA256, EC_P256 } from '../lib/identity/crypto.js';
import { exportPrivateKeyPem, importPrivateKeyPem, type CertificateAuthority } from '../lib/identity/index.js';

// The control plane's own gRPC serving certificate, issued by its CA for `weft-control.<ns>.svc` (and
// the short names) plus the listen IPs, so data planes verify it with nothing but --ca-root. Workload
// certificates carry only a SPIFFE URI SAN (lib/identity); this one needs DNS and IP SANs, hence here.

export interface ServingCert {
  certChainPem: string;
  keyPem: string;
  notAfter: Date;
}

export function servingNames(namespace: string, extra: readonly string[] = []): string[] {
  return [...new Set([`weft-control.${namespace}.svc`, `weft-control.${namespace}.svc.cluster.local`, `weft-control.${namespace}`, 'weft-control', 'localhost', ...extra])];
}

export async function issueServingCert(ca: CertificateAuthority, names: readonly string[], lifetimeDays = 30): Promise<ServingCert> {
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify']));
  const caCert = new x509.X509Certificate(ca.certPem);
  const curve = (caCert.publicKey.algorithm as EcKeyAlgorithm).namedCurve as 'P-256' | 'P-384';
  const signingKey = await importPrivateKeyPem(ca.keyPem, curve);
  const now = Date.now();
  const notAfter = new Date(Math.min(now + lifetimeDays * 86_400_000, caCert.notAfter.getTime()));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) || 1;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=${names[0] ?? 'weft-control'}`,
    issuer: caCert.subjectName,
    notBefore: new Date(now - 5 * 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: { ...ECDSA_SHA256, hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  const chain = [leaf.toString('pem')];
  if (!ca.rootsPem.some((r) => r.trim() === ca.certPem.trim())) chain.push(ca.certPem.trim());
  return { certChainPem: chain.join('\n') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey), notAfter };
}
