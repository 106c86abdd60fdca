import { WeftError } from '../errors/index.js';
import { x509 } from './crypto.js';
import { splitPemCertificates } from './keys.js';

const MAX_CHAIN = 8;

/**
 * The roots a data plane trusts. Several roots coexist during a root rotation: certificates issued under
 * the old and the new root are both accepted until the old root is removed from the bundle.
 * TLS handshakes verify with Node's own verifier (`ca: rootsPem`); this class verifies chains in
 * JavaScript where no TLS handshake is involved (issued chains, stored certificates, `weft check`).
 */
export class TrustBundle {
  readonly rootsPem: string[];
  private readonly roots: x509.X509Certificate[];

  constructor(rootsPem: readonly string[]) {
    this.rootsPem = rootsPem.flatMap((p) => splitPemCertificates(p));
    if (this.rootsPem.length === 0) throw new WeftError('ERR_WEFT_CA_INVALID', { reason: 'trust bundle has no root certificate' });
    this.roots = this.rootsPem.map((p) => new x509.X509Certificate(p));
  }

  /** A bundle with the roots of both; duplicates removed. */
  merge(other: TrustBundle): TrustBundle {
    return new TrustBundle([...new Set([...this.rootsPem, ...other.rootsPem])]);
  }

  /** True when `chainPem` verifies up to one of the roots (see `verifyChain`), false on any refusal. */
  async trusts(chainPem: readonly string[], at: Date = new Date()): Promise<boolean> {
    try {
      await this.verifyChain(chainPem, at);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Verifies `chainPem` (leaf first, then intermediates) up to one of the roots at `at`: each signature,
   * each validity window, and that every issuer is a CA. Throws `ERR_WEFT_CERT_CHAIN_INVALID`.
   */
  async verifyChain(chainPem: readonly string[], at: Date = new Date()): Promise<void> {
    const blocks = chainPem.flatMap((p) => splitPemCertificates(p));
    if (blocks.length === 0) throw chainInvalid('empty chain');
    if (blocks.length > MAX_CHAIN) throw chainInvalid(`chain longer than ${MAX_CHAIN}`);
    let certs: x509.X509Certificate[];
    try {
      certs = blocks.map((b) => new x509.X509Certificate(b));
    } catch (err) {
      throw chainInvalid(`certificate does not parse (${(err as Error).message})`);
    }
    for (let i = 0; i < certs.length; i++) {
      const c = certs[i];
      if (at < c.notBefore) throw chainInvalid(`certificate ${i} is not valid before ${c.notBefore.toISOString()}`);
      if (at > c.notAfter) throw chainInvalid(`certificate ${i} expired at ${c.notAfter.toISOString()}`);
    }
    for (let i = 0; i + 1 < certs.length; i++) {
      const child = certs[i];
      const parent = certs[i + 1];
      if (!parent.getExtension(x509.BasicConstraintsExtension)?.ca) throw chainInvalid(`certificate ${i + 1} is not a CA`);
      if (!(await child.verify({ publicKey: parent, signatureOnly: true }))) throw chainInvalid(`certificate ${i} is not signed by certificate ${i + 1}`);
    }
    const top = certs[certs.length - 1];
    // The chain may end in a root that is in the bundle (then it must be that root) or below one.
    for (const root of this.roots) {
      if (Buffer.from(top.rawData).equals(Buffer.from(root.rawData))) return;
      if (top.issuer !== root.subject) continue;
      if (at > root.notAfter || at < root.notBefore) continue;
      if (await top.verify({ publicKey: root, signatureOnly: true })) return;
    }
    throw chainInvalid('no root in the trust bundle signed this chain');
  }
}

function chainInvalid(reason: string): WeftError {
  return new WeftError('ERR_WEFT_CERT_CHAIN_INVALID', { reason });
}
