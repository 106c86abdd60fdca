import { x509, ECDSA_SHA256 } from './crypto.js';
import type { SpiffeId } from './spiffe.js';

/** A PEM PKCS#10 request with an empty subject and exactly one URI SAN: the workload's SPIFFE ID. */
export async function createCsr(identity: SpiffeId, keys: CryptoKeyPair): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.toString() }], true)],
  });
  return csr.toString('pem');
}
