import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { WeftError, isWeftError } from '../errors/index.js';
import { DerError, childrenOf, contentOf, oidOf, readTlv, type Tlv } from './der.js';
import { SpiffeId } from './spiffe.js';

/** Largest CSR accepted: one P-256 key and one URI SAN fit in well under 1 KiB. */
export const MAX_CSR_BYTES = 8192;

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const KEY_ALGORITHMS: Record<string, string> = { [OID_EC_PUBLIC_KEY]: 'ECDSA', '1.2.840.113549.1.1.1': 'RSA', '1.2.840.113549.1.1.10': 'RSA-PSS', '1.3.101.112': 'Ed25519', '1.3.101.113': 'Ed448' };
const CURVES: Record<string, string> = { [OID_P256]: 'P-256', '1.3.132.0.34': 'P-384', '1.3.132.0.35': 'P-521' };
const SIGNATURE_HASHES: Record<string, string> = { '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512' };
const GENERAL_NAME_TYPES: Record<number, string> = { 0x81: 'email', 0x82: 'dns', 0x86: 'url', 0x87: 'ip', 0xa4: 'dn', 0x88: 'id', 0xa0: 'other' };

/** What `parseAndCheckCsr` hands the signer: the requester's key and the one identity it asks for. */
export interface CheckedCsr {
  /** The CSR's SubjectPublicKeyInfo, DER, exactly as sent (an ECDSA P-256 key). */
  readonly spki: Buffer;
  /** The single URI SAN, a valid SPIFFE ID. */
  readonly uri: string;
}

/**
 * Parses and validates a CSR's form: size, encoding, key type, signature, exactly one URI SAN. A strict
 * DER reader over the few fields weft needs, and node:crypto for the signature check (no ASN.1 object
 * model, no WebCrypto thread hop: most of a Certify's cost before).
 */
export function parseAndCheckCsr(csrPem: unknown): CheckedCsr {
  if (typeof csrPem !== 'string') throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: 'not a string' });
  if (csrPem.length > MAX_CSR_BYTES) throw new WeftError('ERR_WEFT_CSR_TOO_LARGE', { size: csrPem.length, max: MAX_CSR_BYTES });
  let info: Tlv, subjectPkInfo: Tlv, attributes: Tlv | undefined, signatureAlgorithm: string, signature: Buffer, input: Buffer;
  try {
    const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]*)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(csrPem);
    input = m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : Buffer.from(csrPem.replace(/\s+/g, ''), 'base64');
    const outer = readTlv(input, 0, input.length);
    if (outer.tag !== 0x30 || outer.end !== input.length) throw new DerError('not a DER SEQUENCE');
    const parts = childrenOf(input, outer);
    if (parts.length !== 3 || parts[0].tag !== 0x30 || parts[1].tag !== 0x30 || parts[2].tag !== 0x03) throw new DerError('not a CertificationRequest');
    info = parts[0];
    const algorithm = childrenOf(input, parts[1]);
    if (algorithm.length < 1 || algorithm[0].tag !== 0x06) throw new DerError('signatureAlgorithm has no OID');
    signatureAlgorithm = oidOf(input, algorithm[0]);
    const bits = contentOf(input, parts[2]);
    if (bits.length < 2 || bits[0] !== 0) throw new DerError('signature is not a whole-byte BIT STRING');
    signature = bits.subarray(1);
    const fields = childrenOf(input, info);
    if (fields.length < 3 || fields.length > 4) throw new DerError('certificationRequestInfo has the wrong number of fields');
    const [version, subject, spki, attrs] = fields;
    if (version.tag !== 0x02 || !contentOf(input, version).equals(Buffer.from([0]))) throw new DerError('version is not 0');
    if (subject.tag !== 0x30 || spki.tag !== 0x30) throw new DerError('subject or subjectPKInfo is not a SEQUENCE');
    if (attrs !== undefined && attrs.tag !== 0xa0) throw new DerError('attributes are not [0]');
    subjectPkInfo = spki;
    attributes = attrs;
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: shortReason(err) }, { cause: err });
  }
  const spkiDer = input.subarray(subjectPkInfo.start, subjectPkInfo.end);
  let key;
  try {
    const [alg] = childrenOf(input, subjectPkInfo);
    const ids = childrenOf(input, alg).filter((t) => t.tag === 0x06).map((t) => oidOf(input, t));
    const name = KEY_ALGORITHMS[ids[0] ?? ''] ?? ids[0] ?? 'unknown';
    const curve = ids[1] === undefined ? undefined : (CURVES[ids[1]] ?? ids[1]);
    if (ids[0] !== OID_EC_PUBLIC_KEY || ids[1] !== OID_P256) throw new WeftError('ERR_WEFT_CSR_KEY_UNSUPPORTED', { key: `${name}${curve ? ' ' + curve : ''}` });
    key = publicKeyOf(input, subjectPkInfo, spkiDer);
  } catch (err) {
    if (isWeftError(err)) throw err;
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `public key: ${shortReason(err)}` }, { cause: err });
  }
  const hash = SIGNATURE_HASHES[signatureAlgorithm];
  if (hash === undefined) throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `signature algorithm ${signatureAlgorithm} is not ECDSA with SHA-2` });
  let ok: boolean;
  try {
    ok = cryptoVerify(hash, input.subarray(info.start, info.end), { key, dsaEncoding: 'der' }, signature);
  } catch {
    ok = false; // a signature that is not even a DER ECDSA-Sig-Value
  }
  if (!ok) throw new WeftError('ERR_WEFT_CSR_BAD_SIGNATURE');
  return { spki: Buffer.from(spkiDer), uri: uriSan(input, attributes) };
}

/**
 * The CSR's P-256 key. An uncompressed point goes in as JWK: OpenSSL 3's DER decoder lookup made
 * `createPublicKey(spki)` the largest single cost of a Certify (~0.35 ms against ~0.2 ms here); the
 * point is checked to be on the curve either way.
 */
function publicKeyOf(input: Buffer, spki: Tlv, spkiDer: Buffer): KeyObject {
  const bits = contentOf(input, childrenOf(input, spki)[1] ?? spki);
  if (bits.length === 66 && bits[0] === 0 && bits[1] === 0x04) {
    const x = bits.subarray(2, 34).toString('base64url');
    const y = bits.subarray(34, 66).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
  }
  return createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
}

/** The single URI SAN of a CSR's extensionRequest; anything else is `ERR_WEFT_CSR_SAN`. */
function uriSan(input: Buffer, attributes: Tlv | undefined): string {
  const sans: Tlv[] = [];
  try {
    for (const attribute of attributes === undefined ? [] : childrenOf(input, attributes)) {
      const [type, values] = childrenOf(input, attribute);
      if (type?.tag !== 0x06 || values?.tag !== 0x31) throw new DerError('attribute is not {OID, SET}');
      if (oidOf(input, type) !== OID_EXTENSION_REQUEST) continue;
      for (const extensions of childrenOf(input, values)) {
        for (const ext of childrenOf(input, extensions)) {
          const f = childrenOf(input, ext);
          if (f[0]?.tag !== 0x06 || f[f.length - 1]?.tag !== 0x04) throw new DerError('extension is not {OID, [critical], OCTET STRING}');
          if (oidOf(input, f[0]) === OID_SUBJECT_ALT_NAME) sans.push(f[f.length - 1]);
        }
      }
    }
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `extensions: ${shortReason(err)}` }, { cause: err });
  }
  if (sans.length !== 1) throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `found ${sans.length} subjectAltName extensions` });
  let names: Tlv[];
  let value: Buffer;
  try {
    value = contentOf(input, sans[0]);
    const generalNames = readTlv(value, 0, value.length);
    if (generalNames.tag !== 0x30 || generalNames.end !== value.length) throw new DerError('GeneralNames is not a SEQUENCE');
    names = childrenOf(value, generalNames);
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `unreadable names (${shortReason(err)})` }, { cause: err });
  }
  if (names.length !== 1 || names[0].tag !== 0x86)
    throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `found ${names.map((n) => GENERAL_NAME_TYPES[n.tag] ?? 'other').join(', ') || 'no names'}` });
  const bytes = contentOf(value, names[0]);
  if (bytes.some((b) => b > 0x7e || b < 0x20)) throw new WeftError('ERR_WEFT_CSR_SAN', { reason: 'the URI is not printable ASCII (IA5String)' });
  const uri = bytes.toString('latin1');
  try {
    SpiffeId.parse(uri);
  } catch (err) {
    if (isWeftError(err)) throw new WeftError('ERR_WEFT_CSR_SAN', { reason: err.message }, { cause: err });
    throw err;
  }
  return uri;
}

export function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 200 ? msg.slice(0, 200) + '…' : msg;
}
