import { EventEmitter } from 'node:events';
import { SpiffeId, type CertificateManager, type WorkloadCertificate } from '../../lib/identity/index.js';

/**
 * The certificate and trust roots lib/hbone needs for a workload identity. lib/hbone caches one secure
 * context per certificate object, so handing it the CertificateManager's (renewed = new) object is enough.
 * Emits `roots` (roots) when the trust bundle changed (root rotation): pods' HBONE servers apply it at once.
 */
export class WorkloadTls extends EventEmitter<{ roots: [roots: readonly string[]] }> {
  constructor(
    private readonly certs: CertificateManager,
    /** Current trust bundle roots (same array while the bundle is unchanged). */
    readonly roots: () => readonly string[],
    readonly trustDomain: string,
  ) {
    super();
    this.setMaxListeners(0); // one listener per enrolled pod
  }

  identityOf(namespace: string, serviceAccount: string): SpiffeId {
    return SpiffeId.of(this.trustDomain, namespace, serviceAccount);
  }

  /** `identity`'s current certificate; requested when not held or expired. */
  async certificate(identity: SpiffeId): Promise<WorkloadCertificate> {
    const cert = this.certs.cached(identity) ?? (await this.certs.get(identity));
    return cert.notAfter.getTime() > Date.now() ? cert : await this.certs.get(identity);
  }
}
