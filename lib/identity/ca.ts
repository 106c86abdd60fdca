import { createHash, createPrivateKey, createPublicKey, randomBytes, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { WeftError, isWeftError } from '../errors/index.js';
import { x509, subtle, EC_P256, ECDSA_SHA256 } from './crypto.js';
import { exportPrivateKeyPem, importPrivateKeyPem, splitPemCertificates } from './keys.js';
import { SpiffeId } from './spiffe.js';

/** Largest CSR accepted: one P-256 key and one URI SAN fit in well under 1 KiB. */
export const MAX_CSR_BYTES = 8192;
/** Default and maximum workload certificate lifetime (ARCHITECTURE.md: 24 h). */
export const DEFAULT_LIFETIME_SECONDS = 24 * 3600;
/** notBefore is backdated so that peers with a slow clock accept a certificate at once. */
export const CLOCK_SKEW_SECONDS = 5 * 60;
const ROOT_LIFETIME_DAYS = 3650;

export interface SignOptions {
  /** The one identity this caller may have; the CSR's URI SAN must equal it. */
  readonly identity: SpiffeId;
  /** Requested lifetime; capped at the CA's maximum. */
  readonly lifetimeSeconds?: number;
}

export interface IssuedChain {
  /** Leaf first, then the CA's intermediates; never the root. */
  readonly certChainPem: string[];
}

/**
 * weft's certificate authority: a self-signed root it creates, or a root or intermediate it is given.
 * `sign` only signs a CSR after checking its signature, key, and that it names exactly the allowed identity.
 */
export class CertificateAuthority {
  /** The CA key for node:crypto (signing on the calling thread, no WebCrypto hop). */
  private readonly keyObject: KeyObject;
  /** What every leaf shares, encoded once (see LeafTemplate). */
  private readonly template: LeafTemplate;
  /** Leaf first is followed by these (an intermediate CA sends itself and its parents; a root nothing). */
  private readonly chainTail: readonly string[];

  private constructor(
    private readonly cert: x509.X509Certificate,
    /** CA cert's parents up to (excluding) the root, sent with every leaf. */
    intermediates: readonly x509.X509Certificate[],
    readonly rootsPem: string[],
    readonly keyPem: string,
    readonly trustDomain: string,
    private readonly maxLifetimeSeconds: number,
    selfSigned: boolean,
  ) {
    this.keyObject = createPrivateKey(keyPem);
    this.template = leafTemplate(cert);
    this.chainTail = selfSigned ? [] : [this.certPem, ...intermediates.map((c) => c.toString('pem') + '\n')];
  }

  static async createRoot(options: {
    trustDomain: string;
    commonName?: string;
    lifetimeDays?: number;
    maxLifetimeSeconds?: number;
  }): Promise<CertificateAuthority> {
    const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify']));
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: [{ O: ['weft'] }, { CN: [options.commonName ?? `weft root CA (${options.trustDomain})`] }],
      notBefore: new Date(now - CLOCK_SKEW_SECONDS * 1000),
      notAfter: new Date(now + (options.lifetimeDays ?? ROOT_LIFETIME_DAYS) * 86_400_000),
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pem = cert.toString('pem') + '\n';
    return new CertificateAuthority(
      cert,
      [],
      [pem],
      await exportPrivateKeyPem(keys.privateKey),
      options.trustDomain,
      options.maxLifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS,
      true,
    );
  }

  /**
   * Loads a given root or intermediate. `certChainPem` holds the CA certificate first, then its parents up
   * to the root (a self-signed root alone is fine); `keyPem` is the CA's PKCS#8 ECDSA key.
   */
  static async load(options: {
    certChainPem: string;
    keyPem: string;
    trustDomain?: string;
    maxLifetimeSeconds?: number;
  }): Promise<CertificateAuthority> {
    const blocks = splitPemCertificates(options.certChainPem);
    if (blocks.length === 0) throw caInvalid('no CERTIFICATE block in the CA chain');
    let chain: x509.X509Certificate[];
    try {
      chain = blocks.map((b) => new x509.X509Certificate(b));
    } catch (err) {
      throw caInvalid(`CA certificate does not parse (${(err as Error).message})`);
    }
    const ca = chain[0];
    const bc = ca.getExtension(x509.BasicConstraintsExtension);
    if (!bc?.ca) throw caInvalid('the first certificate is not a CA (basicConstraints CA:true is missing)');
    const ku = ca.getExtension(x509.KeyUsagesExtension);
    if (ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw caInvalid('the CA certificate lacks keyUsage keyCertSign');
    const last = chain[chain.length - 1];
    if (!(await isSelfSigned(last)))
      throw caInvalid('the chain does not end in a self-signed root; append the parents of the CA certificate up to the root');
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!(await chain[i].verify({ publicKey: chain[i + 1], signatureOnly: true })))
        throw caInvalid(`certificate ${i} is not signed by certificate ${i + 1}`);
    }
    const curve = (ca.publicKey.algorithm as EcKeyAlgorithm).namedCurve;
    if (curve !== 'P-256' && curve !== 'P-384') throw caInvalid(`CA key must be ECDSA P-256 or P-384, not ${JSON.stringify(ca.publicKey.algorithm)}`);
    let signingKey: CryptoKey;
    try {
      signingKey = await importPrivateKeyPem(options.keyPem, curve);
    } catch (err) {
      throw caInvalid(`CA key is not a PKCS#8 ECDSA ${curve} key (${(err as Error).message})`);
    }
    await assertKeyMatches(ca, signingKey);
    const sanTd = trustDomainFromCa(ca);
    try {
      return new CertificateAuthority(
        ca,
        chain.slice(1, -1),
        [last.toString('pem') + '\n'],
        options.keyPem,
        options.trustDomain ?? sanTd ?? 'cluster.local',
        options.maxLifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS,
        await isSelfSigned(ca),
      );
    } catch (err) {
      throw caInvalid(`CA certificate or key unusable (${(err as Error).message})`);
    }
  }

  /** The CA's own certificate (root or intermediate). */
  get certPem(): string {
    return this.cert.toString('pem') + '\n';
  }

  get notAfter(): Date {
    return this.cert.notAfter;
  }

  /** Validates a CSR and signs it for `options.identity`. Every refusal is a typed `ERR_WEFT_CSR_*`. */
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that every refusal is a rejection
  async sign(csrPem: string, options: SignOptions): Promise<IssuedChain> {
    const csr = parseAndCheckCsr(csrPem);
    if (!options.identity.equals(csr.uri))
      throw new WeftError('ERR_WEFT_CSR_IDENTITY_MISMATCH', { requested: csr.uri, allowed: options.identity.toString() });
    return this.issueSpki(csr.spki, options.identity, this.validity({ lifetimeSeconds: options.lifetimeSeconds }));
  }

  /**
   * Issues a workload certificate for an already-validated public key. `sign` is the entry point for
   * requests; this is for callers that hold the key themselves (local mode, tests).
   */
  async issue(
    publicKey: x509.PublicKey | CryptoKey,
    identity: SpiffeId,
    options: { lifetimeSeconds?: number; notBefore?: Date; notAfter?: Date } = {},
  ): Promise<IssuedChain> {
    const spki = publicKey instanceof x509.PublicKey ? Buffer.from(publicKey.rawData) : Buffer.from(await subtle.exportKey('spki', publicKey));
    return this.issueSpki(spki, identity, this.validity(options));
  }

  private validity(options: { lifetimeSeconds?: number; notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
    const now = Date.now();
    const lifetime = Math.min(Math.max(60, options.lifetimeSeconds ?? this.maxLifetimeSeconds), this.maxLifetimeSeconds);
    const notBefore = options.notBefore ?? new Date(now - CLOCK_SKEW_SECONDS * 1000);
    let notAfter = options.notAfter ?? new Date(now + lifetime * 1000);
    if (!options.notAfter && notAfter > this.cert.notAfter) notAfter = this.cert.notAfter;
    return { notBefore, notAfter };
  }

  /**
   * The leaf is the profile @peculiar/x509 produced before (test/lib/identity pins it byte for byte),
   * encoded here from a per-CA template plus serial, validity, SPKI and SAN, and signed with node:crypto.
   * CPU per signed CSR (check + issue) 7–8 ms → 0.5–0.6 ms on this 2-core machine: the ASN.1 object model
   * and WebCrypto's thread hops (and a self-signed check per leaf) were most of each Certify's cost.
   */
  private issueSpki(spki: Buffer, identity: SpiffeId, validity: { notBefore: Date; notAfter: Date }): IssuedChain {
    const t = this.template;
    const tbs = der(
      0x30,
      t.version,
      randomSerialDer(),
      t.signatureAlgorithm,
      t.issuer,
      der(0x30, derTime(validity.notBefore), derTime(validity.notAfter)),
      EMPTY_NAME,
      spki,
      der(0xa3, der(0x30, t.fixedExtensionsBeforeSan, sanExtension(identity.toString()), t.authorityKeyIdExtension)),
    );
    const signature = cryptoSign('sha256', tbs, { key: this.keyObject, dsaEncoding: 'der' });
    const cert = der(0x30, tbs, t.signatureAlgorithm, der(0x03, ZERO_BYTE, signature));
    return { certChainPem: [certificatePem(cert), ...this.chainTail] };
  }
}

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

// ---- DER ------------------------------------------------------------------------------------------
// Just enough DER for CSRs in and certificates out: single-byte tags, definite lengths, strict bounds.

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const KEY_ALGORITHMS: Record<string, string> = { [OID_EC_PUBLIC_KEY]: 'ECDSA', '1.2.840.113549.1.1.1': 'RSA', '1.2.840.113549.1.1.10': 'RSA-PSS', '1.3.101.112': 'Ed25519', '1.3.101.113': 'Ed448' };
const CURVES: Record<string, string> = { [OID_P256]: 'P-256', '1.3.132.0.34': 'P-384', '1.3.132.0.35': 'P-521' };
const SIGNATURE_HASHES: Record<string, string> = { '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512' };
const GENERAL_NAME_TYPES: Record<number, string> = { 0x81: 'email', 0x82: 'dns', 0x86: 'url', 0x87: 'ip', 0xa4: 'dn', 0x88: 'id', 0xa0: 'other' };

class DerError extends Error {}

interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function readTlv(buf: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let len = buf[pos + 1];
  let contentStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new DerError('indefinite or oversized length');
    if (contentStart + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i];
    if (len < 0x80 || (n > 1 && buf[contentStart] === 0)) throw new DerError('non-minimal length');
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw new DerError('content runs past its container');
  return { tag, start: pos, contentStart, end };
}

function childrenOf(buf: Buffer, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('primitive where a constructed value belongs');
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

function contentOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.contentStart, t.end);
}

function oidOf(buf: Buffer, t: Tlv): string {
  const b = contentOf(buf, t);
  if (b.length === 0 || b.length > 64 || (b[b.length - 1] & 0x80) !== 0) throw new DerError('malformed OID');
  const arcs: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs[0];
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...arcs.slice(1)].join('.');
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

function der(tag: number, ...parts: Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat([Buffer.from([tag]), derLength(len), ...parts]);
}

const ZERO_BYTE = Buffer.from([0]);
/** The empty subject of every workload certificate (the URI SAN is its only name). */
const EMPTY_NAME = Buffer.from([0x30, 0x00]);

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, `Z`. */
function derTime(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? der(0x17, Buffer.from(digits.slice(2), 'latin1')) : der(0x18, Buffer.from(digits, 'latin1'));
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, ≤ 20 octets, unpredictable), as DER INTEGER. */
function randomSerialDer(): Buffer {
  const b = randomBytes(18);
  b[0] = 0x02;
  b[1] = 16;
  b[2] = (b[2] & 0x7f) || 0x01; // positive, and no leading zero octet
  return b;
}

/** subjectAltName, critical (an empty subject makes it the only name, RFC 5280 §4.2.1.6), one URI. */
function sanExtension(uri: string): Buffer {
  return der(0x30, SAN_OID_AND_CRITICAL, der(0x04, der(0x30, der(0x86, Buffer.from(uri, 'latin1')))));
}
const SAN_OID_AND_CRITICAL = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11, 0x01, 0x01, 0xff]);

/** What every leaf of one CA shares, DER-encoded once when the CA is loaded. */
interface LeafTemplate {
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

function leafTemplate(ca: x509.X509Certificate): LeafTemplate {
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

function certificatePem(certDer: Buffer): string {
  const b64 = certDer.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/** Random positive 128-bit serial (RFC 5280 §4.1.2.2: positive, ≤ 20 octets, unpredictable). */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) || 0x01;
  return b.toString('hex');
}

async function isSelfSigned(cert: x509.X509Certificate): Promise<boolean> {
  if (cert.subject !== cert.issuer) return false;
  try {
    return await cert.verify({ publicKey: cert, signatureOnly: true });
  } catch {
    return false;
  }
}

async function assertKeyMatches(cert: x509.X509Certificate, key: CryptoKey): Promise<void> {
  const data = new Uint8Array([119, 101, 102, 116]);
  const hash = (cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256';
  const sig = await subtle.sign({ name: 'ECDSA', hash }, key, data);
  const pub = await cert.publicKey.export({ name: 'ECDSA', namedCurve: (cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve }, ['verify']);
  if (!(await subtle.verify({ name: 'ECDSA', hash }, pub, sig, data))) throw caInvalid('the key does not belong to the CA certificate');
}

function trustDomainFromCa(cert: x509.X509Certificate): string | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uri = san?.names.items.find((n) => n.type === 'url')?.value;
  const m = uri ? /^spiffe:\/\/([^/]+)/.exec(uri) : null;
  return m?.[1];
}

function caInvalid(reason: string): WeftError {
  return new WeftError('ERR_WEFT_CA_INVALID', { reason });
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 200 ? msg.slice(0, 200) + '…' : msg;
}
