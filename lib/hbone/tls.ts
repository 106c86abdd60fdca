import { createSecureContext, type SecureContext } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { WeftError, isWeftError, type WeftErrorCode } from '../errors/index.js';
import { SpiffeId, type WorkloadCertificate } from '../identity/index.js';

// TLS details shared by the HBONE client and server: one secure context per (certificate, roots), SPIFFE
// IDs read from URI SANs, and Node/OpenSSL error codes mapped to weft's distinct ERR_WEFT_HBONE_TLS_* codes.

export type CertSide = 'server' | 'client';

interface CachedContext {
  readonly roots: readonly string[];
  readonly context: SecureContext;
}

// Building a context parses the key and every root (~1 ms); a session per peer would pay it each time.
// Keyed by the certificate object: a renewed certificate is a new object and gets a new context.
const contexts = new WeakMap<WorkloadCertificate, CachedContext>();

/** TLS 1.3 only, our chain and key, the mesh roots as the only trust anchors. Cached per cert and roots. */
export function secureContextFor(certificate: WorkloadCertificate, roots: readonly string[]): SecureContext {
  const cached = contexts.get(certificate);
  if (cached !== undefined && sameRoots(cached.roots, roots)) return cached.context;
  const context = createSecureContext({
    cert: certificate.certChainPem.join('\n'),
    key: certificate.keyPem,
    ca: roots.length > 0 ? [...roots] : undefined,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  });
  contexts.set(certificate, { roots, context });
  return context;
}

/** Same PEM roots in the same order (the bundle's first root is the signing one). */
export function sameRoots(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The URI SANs of a certificate, from Node's `subjectaltname` string (`URI:a, DNS:b`, values may be quoted). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of splitSan(subjectAltName)) {
    if (!part.startsWith('URI:')) continue;
    let v = part.slice(4);
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    out.push(v);
  }
  return out;
}

// Node quotes values that contain ", " or other ambiguous characters (CVE-2021-44532), so a plain split
// on ", " would be wrong for quoted entries.
function splitSan(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 /* " */ && s.charCodeAt(i - 1) !== 0x5c /* \ */) quoted = !quoted;
    else if (!quoted && c === 0x2c /* , */ && s.charCodeAt(i + 1) === 0x20) {
      parts.push(s.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** The one SPIFFE ID of a peer certificate, or a typed error naming what is wrong with it. */
export function spiffeIdOf(cert: X509Certificate | undefined, peer: string): SpiffeId | WeftError {
  if (cert === undefined) return new WeftError('ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT', { peer });
  const uris = uriSans(cert.subjectAltName);
  if (uris.length !== 1)
    return new WeftError('ERR_WEFT_HBONE_TLS_PEER_IDENTITY', { peer, detail: `${uris.length} URI SANs` });
  const id = SpiffeId.tryParse(uris[0]);
  if (id === undefined) return new WeftError('ERR_WEFT_HBONE_TLS_PEER_IDENTITY', { peer, detail: `URI SAN ${uris[0]}` });
  return id;
}

/** `checkServerIdentity` for tls.connect: the server's one URI SAN must equal the expected identity. */
export function checkServerSpiffeId(expected: SpiffeId, peer: string) {
  return (_host: string, cert: { subjectaltname?: string }): Error | undefined => {
    const uris = uriSans(cert.subjectaltname);
    if (uris.length === 1 && expected.equals(uris[0])) return undefined;
    return new WeftError('ERR_WEFT_HBONE_TLS_SAN_MISMATCH', {
      peer,
      actual: uris.length === 0 ? '(no URI SAN)' : uris.join(' + '),
      expected: expected.toString(),
    });
  };
}

// OpenSSL verification results (X509_V_ERR_* names, as Node reports them in err.code/authorizationError).
const VERIFY_CODES: Readonly<Record<string, WeftErrorCode>> = {
  CERT_HAS_EXPIRED: 'ERR_WEFT_HBONE_TLS_EXPIRED',
  CERT_NOT_YET_VALID: 'ERR_WEFT_HBONE_TLS_NOT_YET_VALID',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_WEFT_HBONE_TLS_SELF_SIGNED',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  UNABLE_TO_GET_ISSUER_CERT: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  CERT_SIGNATURE_FAILURE: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  CERT_UNTRUSTED: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  CERT_REJECTED: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
  INVALID_CA: 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA',
};

/** Maps an OpenSSL verification result about the peer's certificate to a weft error. */
export function verifyError(verifyCode: string, side: CertSide, peer: string): WeftError {
  const code = VERIFY_CODES[verifyCode] ?? 'ERR_WEFT_HBONE_TLS_UNKNOWN_CA';
  if (code === 'ERR_WEFT_HBONE_TLS_NO_CLIENT_CERT') return new WeftError(code, { peer });
  return new WeftError(code, { side, peer, detail: verifyCode });
}

/** Maps a client-side failure while connecting (TCP, TLS, h2 preface) to a weft error. */
export function clientConnectError(err: unknown, peer: string): WeftError {
  if (isWeftError(err)) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code in VERIFY_CODES) return verifyError(code, 'server', peer);
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
    return new WeftError('ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER', { peer, reason: 'it requires a client certificate', alert: code });
  // The server's OpenSSL refused our certificate during the handshake and said why in an alert.
  if (/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code))
    return new WeftError('ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER', { peer, reason: `TLS alert ${code}`, alert: code }, { cause: err });
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO')
    return new WeftError('ERR_WEFT_HBONE_TLS_HANDSHAKE', { peer, detail: e?.message ?? code }, { cause: err });
  return new WeftError('ERR_WEFT_HBONE_CONNECT_FAILED', { peer, detail: code || (e?.message ?? String(err)) }, { cause: err });
}
