import './crypto.js';

export { SpiffeId } from './spiffe.js';
export { generateKeyPair, exportPrivateKeyPem, importPrivateKeyPem, splitPemCertificates, toPem, fromPem } from './keys.js';
export { createCsr } from './csr.js';
export { parseAndCheckCsr, MAX_CSR_BYTES } from './csr-check.js';
export { CertificateAuthority, DEFAULT_LIFETIME_SECONDS, CLOCK_SKEW_SECONDS, type IssuedChain, type SignOptions } from './ca.js';
export { TrustBundle } from './trust-bundle.js';
export { summarizeCertificate, sha256Fingerprint, type CertificateSummary } from './certificate-summary.js';
export { CertificateManager, LocalCertifier, type Certifier, type WorkloadCertificate, type CertificateManagerOptions } from './certificate-manager.js';
export { signingRoot, notUnderSigningRoot } from './root-rotation.js';
export { followTrustBundle, ROOT_SWITCH_RENEW_SPREAD_MS, type TrustFollowerOptions } from './trust-follower.js';
