import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { TrustBundle } from '../identity/index.js';

// Root rotation, last step: once a root leaves the trust bundle, sessions whose peer authenticated with a
// certificate under it only are closed gracefully (GOAWAY: open tunnels finish, new ones go to a new
// session, which verifies against the current roots). The peer's chain is the one of the handshake.

/** The peer's chain as the handshake presented it, leaf first, as PEM; empty without a peer certificate. */
export function peerChainPem(socket: Pick<TLSSocket, 'getPeerCertificate'>): string[] {
  const out: string[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c !== undefined && c.raw !== undefined && !seen.has(c) && out.length < 10) {
    seen.add(c);
    out.push(new X509Certificate(c.raw).toString());
    if (c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return out;
}

/**
 * Closes (with `close`, a graceful GOAWAY) every item whose TLS peer chain does not verify against
 * `roots`; resolves with how many were closed. Items whose socket is gone are skipped.
 */
export async function closeUntrustedPeers<T>(
  items: Iterable<T>,
  socketOf: (item: T) => Pick<TLSSocket, 'getPeerCertificate'> | undefined,
  roots: readonly string[],
  close: (item: T) => void,
): Promise<number> {
  if (roots.length === 0) return 0;
  const bundle = new TrustBundle(roots);
  let closed = 0;
  for (const item of [...items]) {
    let chain: string[];
    try {
      const socket = socketOf(item);
      if (socket === undefined) continue;
      chain = peerChainPem(socket);
    } catch {
      continue; // the session went away meanwhile
    }
    if (chain.length === 0 || (await bundle.trusts(chain))) continue;
    close(item);
    closed++;
  }
  return closed;
}
