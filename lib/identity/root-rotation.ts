import { TrustBundle } from './trust-bundle.js';
import type { WorkloadCertificate } from './certificate-manager.js';

// Root rotation as the data planes follow it (docs/rotation.md): the control plane lists the root it
// signs under first in the trust bundle (control/ca-store.ts: the CA's own root, then extra roots), so a
// data plane tells from the bundle alone which of its certificates a signer switch left behind.

/** The root new certificates chain to: the bundle's first. */
export function signingRoot(roots: readonly string[]): string | undefined {
  return roots[0];
}

/**
 * A predicate for CertificateManager.renewWhere: true for a certificate that does not chain to the
 * bundle's signing root (issued before the signer switched, or under a root no longer trusted).
 */
export function notUnderSigningRoot(roots: readonly string[]): (cert: WorkloadCertificate) => Promise<boolean> {
  const root = signingRoot(roots);
  if (root === undefined) return () => Promise.resolve(false);
  const signing = new TrustBundle([root]);
  return async (cert) => !(await signing.trusts(cert.certChainPem));
}
