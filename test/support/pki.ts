// Test PKI: a fresh CA and workload certificates in one call each, including deliberately bad ones
// (expired, not yet valid, self-signed) for the TLS refusal tests. Real certificates from lib/identity.
import '../../lib/identity/crypto.js';
import { x509, ECDSA_SHA256 } from '../../lib/identity/crypto.js';
import {
  CertificateAuthority,
  SpiffeId,
  generateKeyPair,
  exportPrivateKeyPem,
  type WorkloadCertificate,
} from '../../lib/identity/index.js';

export async function mintCa(trustDomain = 'cluster.local', commonName?: string): Promise<CertificateAuthority> {
  return CertificateAuthority.createRoot({ trustDomain, commonName });
}

export interface MintOptions {
  notBefore?: Date;
  notAfter?: Date;
  lifetimeSeconds?: number;
}

/** A workload certificate for spiffe://<ca trust domain>/ns/<namespace>/sa/<sa> issued by `ca`. */
export async function mintWorkloadCert(
  ca: CertificateAuthority,
  namespace: string,
  serviceAccount: string,
  options: MintOptions = {},
): Promise<WorkloadCertificate> {
  const identity = SpiffeId.of(ca.trustDomain, namespace, serviceAccount);
  const keys = await generateKeyPair();
  const { certChainPem } = await ca.issue(keys.publicKey, identity, options);
  const leaf = new x509.X509Certificate(certChainPem[0]);
  return { identity, certChainPem, keyPem: await exportPrivateKeyPem(keys.privateKey), notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}

/** A self-signed certificate that carries the right SAN but chains to no trusted root. */
export async function mintSelfSigned(identity: SpiffeId): Promise<WorkloadCertificate> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: '',
    keys,
    signingAlgorithm: ECDSA_SHA256,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.toString() }], true),
    ],
  });
  return {
    identity,
    certChainPem: [cert.toString('pem') + '\n'],
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
