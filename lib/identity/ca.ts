import { randomBytes } from 'node:crypto';
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
  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
    /** CA cert's parents up to (excluding) the root, sent with every leaf. */
    private readonly intermediates: readonly x509.X509Certificate[],
    readonly rootsPem: string[],
    readonly keyPem: string,
    readonly trustDomain: string,
    private readonly maxLifetimeSeconds: number,
  ) {}

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
      keys.privateKey,
      [],
      [pem],
      await exportPrivateKeyPem(keys.privateKey),
      options.trustDomain,
      options.maxLifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS,
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
    return new CertificateAuthority(
      ca,
      signingKey,
      chain.slice(1, -1),
      [last.toString('pem') + '\n'],
      options.keyPem,
      options.trustDomain ?? sanTd ?? 'cluster.local',
      options.maxLifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS,
    );
  }

  // Same for every leaf; computing it hashes the CA key, which was a fifth of the cost of each signature.
  private akiExtension?: Promise<x509.AuthorityKeyIdentifierExtension>;

  private authorityKeyId(): Promise<x509.AuthorityKeyIdentifierExtension> {
    return (this.akiExtension ??= x509.AuthorityKeyIdentifierExtension.create(this.cert, false));
  }

  /** The CA's own certificate (root or intermediate). */
  get certPem(): string {
    return this.cert.toString('pem') + '\n';
  }

  get notAfter(): Date {
    return this.cert.notAfter;
  }

  /** Validates a CSR and signs it for `options.identity`. Every refusal is a typed `ERR_WEFT_CSR_*`. */
  async sign(csrPem: string, options: SignOptions): Promise<IssuedChain> {
    const csr = await parseAndCheckCsr(csrPem);
    const requested = uriSan(csr);
    if (!options.identity.equals(requested))
      throw new WeftError('ERR_WEFT_CSR_IDENTITY_MISMATCH', { requested, allowed: options.identity.toString() });
    return this.issue(csr.publicKey, options.identity, { lifetimeSeconds: options.lifetimeSeconds });
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
    const now = Date.now();
    const lifetime = Math.min(Math.max(60, options.lifetimeSeconds ?? this.maxLifetimeSeconds), this.maxLifetimeSeconds);
    const notBefore = options.notBefore ?? new Date(now - CLOCK_SKEW_SECONDS * 1000);
    let notAfter = options.notAfter ?? new Date(now + lifetime * 1000);
    if (!options.notAfter && notAfter > this.cert.notAfter) notAfter = this.cert.notAfter;
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: '',
      issuer: this.cert.subjectName,
      notBefore,
      notAfter,
      publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
        // An empty subject makes the SAN the only name, so RFC 5280 requires it to be critical.
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.toString() }], true),
        await this.authorityKeyId(),
      ],
    });
    const chain = [leaf.toString('pem') + '\n'];
    // An intermediate CA sends itself and its parents; a root is known to peers already.
    if (!(await isSelfSigned(this.cert))) chain.push(this.certPem, ...this.intermediates.map((c) => c.toString('pem') + '\n'));
    return { certChainPem: chain };
  }
}

/** Parses and validates a CSR's form: size, encoding, signature, key type, exactly one URI SAN. */
export async function parseAndCheckCsr(csrPem: unknown): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string') throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: 'not a string' });
  if (csrPem.length > MAX_CSR_BYTES) throw new WeftError('ERR_WEFT_CSR_TOO_LARGE', { size: csrPem.length, max: MAX_CSR_BYTES });
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: shortReason(err) }, { cause: err });
  }
  let alg: KeyAlgorithm & { namedCurve?: string };
  try {
    alg = csr.publicKey.algorithm;
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `public key: ${shortReason(err)}` }, { cause: err });
  }
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256')
    throw new WeftError('ERR_WEFT_CSR_KEY_UNSUPPORTED', { key: `${alg.name}${alg.namedCurve ? ' ' + alg.namedCurve : ''}` });
  let ok: boolean;
  try {
    ok = await csr.verify();
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `signature: ${shortReason(err)}` }, { cause: err });
  }
  if (!ok) throw new WeftError('ERR_WEFT_CSR_BAD_SIGNATURE');
  uriSan(csr);
  return csr;
}

/** The single URI SAN of a CSR; anything else is `ERR_WEFT_CSR_SAN`. */
function uriSan(csr: x509.Pkcs10CertificateRequest): string {
  let sans: x509.Extension[];
  try {
    sans = csr.extensions.filter((e) => e.type === '2.5.29.17');
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_MALFORMED', { reason: `extensions: ${shortReason(err)}` }, { cause: err });
  }
  if (sans.length !== 1) throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `found ${sans.length} subjectAltName extensions` });
  let names: { type: string; value: string }[];
  try {
    const ext = sans[0] instanceof x509.SubjectAlternativeNameExtension ? sans[0] : new x509.SubjectAlternativeNameExtension(sans[0].rawData);
    names = ext.names.items.map((n) => ({ type: n.type, value: n.value }));
  } catch (err) {
    throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `unreadable names (${shortReason(err)})` }, { cause: err });
  }
  if (names.length !== 1 || names[0].type !== 'url')
    throw new WeftError('ERR_WEFT_CSR_SAN', { reason: `found ${names.map((n) => n.type).join(', ') || 'no names'}` });
  const uri = names[0].value;
  try {
    SpiffeId.parse(uri);
  } catch (err) {
    if (isWeftError(err)) throw new WeftError('ERR_WEFT_CSR_SAN', { reason: err.message }, { cause: err });
    throw err;
  }
  return uri;
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
