import { createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { CertificateManager, WorkloadCertificate } from '../../lib/identity/index.js';
import { SpiffeId } from '../../lib/identity/index.js';

/**
 * TLS material per workload identity: one SecureContext per (identity, certificate), rebuilt when the
 * CertificateManager renews, trusting the current trust bundle roots. Building a context parses PEM
 * and costs ~1 ms, so it happens once per certificate, never per connection.
 */
export class TlsContexts {
  private readonly byIdentity = new Map<string, { cert: WorkloadCertificate; roots: readonly string[]; ctx: SecureContext }>();

  constructor(
    private readonly certs: CertificateManager,
    private readonly roots: () => readonly string[],
    readonly trustDomain: string,
  ) {}

  identityOf(namespace: string, serviceAccount: string): SpiffeId {
    return SpiffeId.of(this.trustDomain, namespace, serviceAccount);
  }

  /** The context presenting `identity`'s certificate; requests the certificate when not held. */
  async context(identity: SpiffeId): Promise<SecureContext> {
    const cert = this.certs.cached(identity) ?? (await this.certs.get(identity));
    const fresh = cert.notAfter.getTime() > Date.now() ? cert : await this.certs.get(identity);
    const key = identity.toString();
    const roots = this.roots();
    const held = this.byIdentity.get(key);
    if (held && held.cert === fresh && held.roots === roots) return held.ctx;
    const ctx = createSecureContext({
      cert: fresh.certChainPem.join('\n'),
      key: fresh.keyPem,
      ca: [...roots],
      minVersion: 'TLSv1.3',
    });
    this.byIdentity.set(key, { cert: fresh, roots, ctx });
    return ctx;
  }

  /** PEM material for APIs that take options rather than a SecureContext (tls.Server#setSecureContext). */
  async material(identity: SpiffeId): Promise<{ cert: string; key: string; ca: string[]; version: WorkloadCertificate }> {
    let cert = this.certs.cached(identity) ?? (await this.certs.get(identity));
    if (cert.notAfter.getTime() <= Date.now()) cert = await this.certs.get(identity);
    return { cert: cert.certChainPem.join('\n'), key: cert.keyPem, ca: [...this.roots()], version: cert };
  }

  forget(identity: SpiffeId): void {
    this.byIdentity.delete(identity.toString());
  }
}

/** The SPIFFE ID in a verified peer certificate's URI SAN, or undefined. */
export function spiffeOfCert(cert: PeerCertificate | undefined): string | undefined {
  const san = cert?.subjectaltname;
  if (!san) return undefined;
  for (const part of san.split(', ')) if (part.startsWith('URI:spiffe://')) return part.slice(4);
  return undefined;
}

/** Peer identity of an authorized TLS socket (read once per session by the caller). */
export function peerIdentity(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  return spiffeOfCert(socket.getPeerCertificate());
}
