import { createHash, randomBytes } from 'node:crypto';
import { x509 } from './crypto.js';
import { childrenOf, contentOf, der, readTlv } from './der.js';

/** The empty subject of every workload certificate (the URI SAN is its only name). */
export const EMPTY_NAME = Buffer.from([0x30, 0x00]);

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, ≤ 20 octets, unpredictable), as DER INTEGER. */
export function randomSerialDer(): Buffer {
  const b = randomBytes(18);
  b[0] = 0x02;
  b[1] = 16;
  b[2] = (b[2] & 0x7f) || 0x01; // positive, and no leading zero octet
  return b;
}

/** subjectAltName, critical (an empty subject makes it the only name, RFC 5280 §4.2.1.6), one URI. */
export function sanExtension(uri: string): Buffer {
  return der(0x30, SAN_OID_AND_CRITICAL, der(0x04, der(0x30, der(0x86, Buffer.from(uri, 'latin1')))));
}
const SAN_OID_AND_CRITICAL = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11, 0x01, 0x01, 0xff]);

/** What every leaf of one CA shares, DER-encoded once when the CA is loaded. */
export interface LeafTemplate {
  /** `[0] EXPLICIT INTEGER 2` (X.509 v3). */
  readonly version: Buffer;
  /** ecdsa-with-SHA256, in both the TBSCertificate and the Certificate. */
  readonly signatureAlgorithm: Buffer;
  /** The CA certificate's subject, byte for byte. */
  readonly issuer: Buffer;
  /** basicConstraints (critical, CA:false), keyUsage (critical, digitalSignature), extKeyUsage (serverAuth, clientAuth). */
  readonly fixedExtensionsBeforeSan: Buffer;
  /** authorityKeyIdentifier = the CA's subjectKeyIdentifier (or SHA-1 of its key). */
  readonly authorityKeyIdExtension: Buffer;
}

export function leafTemplate(ca: x509.X509Certificate): LeafTemplate {
  const raw = Buffer.from(ca.rawData);
  const tbs = childrenOf(raw, readTlv(raw, 0, raw.length))[0];
  const f = childrenOf(raw, tbs);
  const subject = f[f[0].tag === 0xa0 ? 5 : 4];
  const ext = (e: x509.Extension): Buffer => Buffer.from(e.rawData);
  const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension);
  return {
    version: Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]),
    signatureAlgorithm: Buffer.from([0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    issuer: Buffer.from(raw.subarray(subject.start, subject.end)),
    fixedExtensionsBeforeSan: Buffer.concat([
      ext(new x509.BasicConstraintsExtension(false, undefined, true)),
      ext(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)),
      ext(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false)),
    ]),
    authorityKeyIdExtension: ext(
      ski !== null ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false) : new x509.AuthorityKeyIdentifierExtension(sha1Hex(ca.publicKey.rawData), false),
    ),
  };
}

function sha1Hex(spki: ArrayBuffer): string {
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value.
  const b = Buffer.from(spki);
  const parts = childrenOf(b, readTlv(b, 0, b.length));
  return createHash('sha1').update(contentOf(b, parts[1]).subarray(1)).digest('hex');
}

export function certificatePem(certDer: Buffer): string {
  const b64 = certDer.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
