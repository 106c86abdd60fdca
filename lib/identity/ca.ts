import { createPrivateKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { WeftError } from '../errors/index.js';
import { x509, subtle, EC_P256, ECDSA_SHA256 } from './crypto.js';
import { parseAndCheckCsr } from './csr-check.js';
import { der, derTime, ZERO_BYTE } from './der.js';
import { exportPrivateKeyPem, importPrivateKeyPem, splitPemCertificates } from './keys.js';
import { EMPTY_NAME, certificatePem, leafTemplate, randomSerialDer, sanExtension, type LeafTemplate } from './leaf-template.js';
import type { SpiffeId } from './spiffe.js';
import { DEFAULT_LEAF_LIFETIME_SECONDS } from './leaf-lifetime.js';

/** Default and maximum workload certificate lifetime (ARCHITECTURE.md: 24 h; weft-control's --leaf-lifetime sets it). */
export const DEFAULT_LIFETIME_SECONDS = DEFAULT_LEAF_LIFETIME_SECONDS;
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

  /** What a leaf lives when no shorter lifetime is asked for (before capping at the CA's own expiry). */
  get leafLifetimeSeconds(): number {
    return this.maxLifetimeSeconds;
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
