import { createHash } from 'node:crypto';
import { x509 } from './crypto.js';
import { splitPemCertificates } from './keys.js';
import type { WorkloadCertificate } from './certificate-manager.js';

/**
 * What an operator may see of a workload certificate (`weft get certificates`, the admin endpoint
 * `/debug/certificates`): identity, serial, validity and the root it chains to. Never key material: the
 * summary is built from the chain alone, so a key cannot reach it by mistake.
 */
export interface CertificateSummary {
  readonly identity: string;
  /** Hex, as `openssl x509 -serial` prints it. */
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Seconds until notAfter at the time of the summary (negative once expired). */
  readonly expiresInSeconds: number;
  /** SHA-256 of the DER of the trust-bundle root the chain ends under, colon-separated; undefined when no root in the bundle issued it. */
  readonly rootFingerprint: string | undefined;
  /** Certificates in the chain (leaf and intermediates). */
  readonly chainLength: number;
}

/** SHA-256 fingerprint of a certificate's DER, upper-case hex pairs joined by colons (openssl's form). */
export function sha256Fingerprint(der: ArrayBuffer | Uint8Array): string {
  const hex = createHash('sha256').update(new Uint8Array(der)).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

export function summarizeCertificate(cert: WorkloadCertificate, rootsPem: readonly string[], now: number = Date.now()): CertificateSummary {
  const chain = cert.certChainPem.flatMap((p) => splitPemCertificates(p)).map((p) => new x509.X509Certificate(p));
  const leaf = chain[0];
  const top = chain[chain.length - 1];
  const roots = rootsPem.flatMap((p) => splitPemCertificates(p)).map((p) => new x509.X509Certificate(p));
  // The chain either ends in a bundle root or under one (the issuer's subject and key id match).
  const aki = top?.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const root =
    roots.find((r) => top !== undefined && Buffer.from(r.rawData).equals(Buffer.from(top.rawData))) ??
    roots.find((r) => top !== undefined && r.subject === top.issuer && (aki === undefined || r.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId === aki));
  return {
    identity: cert.identity.toString(),
    serial: leaf?.serialNumber ?? '',
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    expiresInSeconds: Math.round((cert.notAfter.getTime() - now) / 1000),
    rootFingerprint: root ? sha256Fingerprint(root.rawData) : undefined,
    chainLength: chain.length,
  };
}
