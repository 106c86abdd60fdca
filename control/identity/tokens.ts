import { webcrypto, createHash } from 'node:crypto';
import { WeftError } from '../../lib/errors/index.js';

// Caller authentication for IdentityService and DiscoveryService. Two verifiers behind one interface:
// - directory mode: ES256 JWTs shaped like Kubernetes bound service-account tokens, signed by a key the
//   lab (or a user) holds; minted here too so the lab writes each data plane's token file.
// - cluster mode: Kubernetes TokenReview with audience `weft`, through the Kubernetes source.
// WebCrypto only (no JOSE dependency): ES256 signatures are the raw r||s form WebCrypto produces.

const subtle = webcrypto.subtle;
const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Default tolerance for clocks that disagree between the minting and verifying machines. */
const DEFAULT_LEEWAY_SECONDS = 30;
const MAX_TOKEN_BYTES = 16 * 1024;

/** The claims Kubernetes puts in a bound token (pkg/serviceaccount/claims.go). */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
}

export interface TokenClaims {
  iss?: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': KubernetesClaims;
}

/** Who called, as every verifier reports it; the basis of IdentityService authorization. */
export interface CallerIdentity {
  namespace: string;
  serviceAccount: string;
  serviceAccountUid?: string;
  podName?: string;
  podUid?: string;
  nodeName?: string;
}

export interface TokenVerifier {
  /** Resolves the caller or throws ERR_WEFT_CONTROL_TOKEN_INVALID / ERR_WEFT_CONTROL_TOKEN_REVIEW_FAILED. */
  verify(token: string): Promise<CallerIdentity>;
}

// ---- encoding ------------------------------------------------------------------------------------

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

function pemBody(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: `expected a PEM ${label}` });
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** RFC 7638 JWK thumbprint of an EC public key: the `kid` minted tokens carry and JWKS lookups use. */
function thumbprint(jwk: webcrypto.JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

async function importPrivate(privateKeyPem: string): Promise<webcrypto.CryptoKey> {
  try {
    return await subtle.importKey('pkcs8', pemBody(privateKeyPem, 'PRIVATE KEY'), ES256, true, ['sign']);
  } catch (err) {
    throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'token signing key must be a PKCS#8 PEM ECDSA P-256 key' }, { cause: err });
  }
}

// ---- key material --------------------------------------------------------------------------------

/** A fresh ES256 key pair as PEM (PKCS#8 private, SPKI public): the lab's token signing key. */
export async function generateTokenKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = (await subtle.generateKey(ES256, true, ['sign', 'verify']));
  return {
    privateKeyPem: toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
    publicKeyPem: toPem(await subtle.exportKey('spki', keys.publicKey), 'PUBLIC KEY'),
  };
}

/** The SPKI PEM of a PKCS#8 ES256 private key (what `--token-public-key` expects). */
export async function publicKeyPemOf(privateKeyPem: string): Promise<string> {
  const jwk = await subtle.exportKey('jwk', await importPrivate(privateKeyPem));
  const pub = await subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, ES256, true, ['verify']);
  return toPem(await subtle.exportKey('spki', pub), 'PUBLIC KEY');
}

// ---- mint ----------------------------------------------------------------------------------------

export interface MintClaims {
  namespace: string;
  serviceAccount: string;
  serviceAccountUid?: string;
  pod?: { name: string; uid: string };
  node?: { name: string; uid?: string };
  audience?: string[];
  issuer?: string;
}

/**
 * Mints an ES256 JWT with the claims of a Kubernetes bound service-account token (audience `weft` unless
 * given). `now` is for tests that need expired or not-yet-valid tokens.
 */
export async function mintToken(
  privateKeyPem: string,
  claims: MintClaims,
  options: { lifetimeSeconds?: number; now?: Date } = {},
): Promise<string> {
  const key = await importPrivate(privateKeyPem);
  const jwk = await subtle.exportKey('jwk', key);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const k8s: KubernetesClaims = {
    namespace: claims.namespace,
    serviceaccount: { name: claims.serviceAccount, uid: claims.serviceAccountUid ?? '' },
  };
  if (claims.pod) k8s.pod = claims.pod;
  if (claims.node) k8s.node = { name: claims.node.name, uid: claims.node.uid ?? '' };
  const payload: TokenClaims = {
    iss: claims.issuer ?? 'weft-lab',
    sub: `system:serviceaccount:${claims.namespace}:${claims.serviceAccount}`,
    aud: claims.audience ?? ['weft'],
    iat,
    nbf: iat,
    exp: iat + (options.lifetimeSeconds ?? 24 * 3600),
    'kubernetes.io': k8s,
  };
  const header = { alg: 'ES256', typ: 'JWT', kid: thumbprint(jwk) };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = await subtle.sign(SIGN, key, Buffer.from(signingInput));
  return `${signingInput}.${b64url(new Uint8Array(sig))}`;
}

// ---- verify --------------------------------------------------------------------------------------

export interface Jwks {
  keys: (webcrypto.JsonWebKey & { kid?: string })[];
}

export interface VerifyOptions {
  /** SPKI PEMs (several PEM blocks in one string are fine) or a JWKS. */
  publicKeys: string | string[] | Jwks;
  audience: string;
  now?: Date;
  leewaySeconds?: number;
}

interface KeyEntry {
  kid: string;
  key: webcrypto.CryptoKey;
}

async function importVerifyKeys(publicKeys: VerifyOptions['publicKeys']): Promise<KeyEntry[]> {
  const jwks: (webcrypto.JsonWebKey & { kid?: string })[] = [];
  if (typeof publicKeys === 'object' && !Array.isArray(publicKeys)) {
    jwks.push(...publicKeys.keys.filter((k) => k.kty === 'EC' && k.crv === 'P-256'));
  } else {
    const pems = (Array.isArray(publicKeys) ? publicKeys : [publicKeys]).flatMap(
      (p) => p.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [],
    );
    for (const pem of pems) {
      const key = await subtle.importKey('spki', pemBody(pem, 'PUBLIC KEY'), ES256, true, ['verify']);
      jwks.push(await subtle.exportKey('jwk', key));
    }
  }
  if (jwks.length === 0) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'no ES256 (P-256) public key to verify tokens with' });
  return Promise.all(
    jwks.map(async (jwk) => ({
      kid: typeof jwk.kid === 'string' ? jwk.kid : thumbprint(jwk),
      key: await subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, ES256, false, ['verify']),
    })),
  );
}

function invalid(reason: string): WeftError {
  return new WeftError('ERR_WEFT_CONTROL_TOKEN_INVALID', { reason });
}

function parseJson(part: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw invalid(`${what} is not base64url JSON`);
  }
}

async function verifyWithKeys(token: string, keys: readonly KeyEntry[], options: Omit<VerifyOptions, 'publicKeys'>): Promise<TokenClaims> {
  if (typeof token !== 'string' || token.length === 0) throw invalid('empty token');
  if (token.length > MAX_TOKEN_BYTES) throw invalid(`longer than ${MAX_TOKEN_BYTES} bytes`);
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('not a JWS compact serialization (three dot-separated parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h, 'header');
  if (header.alg !== 'ES256') throw invalid(`algorithm ${String(header.alg)} is not allowed (ES256 only)`);
  const sig = Buffer.from(s, 'base64url');
  if (sig.length !== 64) throw invalid('ES256 signature must be 64 bytes');
  const candidates = typeof header.kid === 'string' && keys.some((k) => k.kid === header.kid) ? keys.filter((k) => k.kid === header.kid) : keys;
  const data = Buffer.from(`${h}.${p}`);
  let ok = false;
  for (const k of candidates) {
    if (await subtle.verify(SIGN, k.key, sig, data)) {
      ok = true;
      break;
    }
  }
  if (!ok) throw invalid('signature does not verify with any trusted key');
  const claims = parseJson(p, 'payload');
  const nowS = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (typeof claims.exp !== 'number') throw invalid('no exp claim');
  if (nowS - leeway >= claims.exp) throw invalid(`expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (typeof claims.nbf === 'number' && nowS + leeway < claims.nbf) throw invalid(`not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!aud.includes(options.audience)) throw invalid(`audience ${JSON.stringify(aud)} does not include ${options.audience}`);
  const k8s = claims['kubernetes.io'] as KubernetesClaims | undefined;
  if (typeof k8s !== 'object' || k8s === null || typeof k8s.namespace !== 'string' || typeof k8s.serviceaccount?.name !== 'string') {
    throw invalid('no kubernetes.io service account claims');
  }
  if (claims.sub !== `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`) throw invalid('sub does not match the kubernetes.io claims');
  return claims as unknown as TokenClaims;
}

/** Verifies a token and returns its claims; throws ERR_WEFT_CONTROL_TOKEN_INVALID with the reason. */
export async function verifyToken(token: string, options: VerifyOptions): Promise<TokenClaims> {
  return verifyWithKeys(token, await importVerifyKeys(options.publicKeys), options);
}

export function callerOf(claims: TokenClaims): CallerIdentity {
  const k = claims['kubernetes.io'];
  return {
    namespace: k.namespace,
    serviceAccount: k.serviceaccount.name,
    serviceAccountUid: k.serviceaccount.uid || undefined,
    podName: k.pod?.name,
    podUid: k.pod?.uid,
    nodeName: k.node?.name,
  };
}

/**
 * Verified tokens by value, until they expire: a data plane presents the same token on every call, and
 * an ECDSA verify per Certify would be most of its cost. Bounded; the oldest entries go first.
 */
class VerifiedTokenCache {
  private readonly entries = new Map<string, { caller: CallerIdentity; untilMs: number }>();

  constructor(private readonly max = 10_000) {}

  get(token: string, nowMs: number): CallerIdentity | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    if (nowMs >= e.untilMs) {
      this.entries.delete(token);
      return undefined;
    }
    return e.caller;
  }

  set(token: string, caller: CallerIdentity, untilMs: number): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { caller, untilMs });
  }
}

/** Directory mode: JWTs signed by keys given as PEM or JWKS (imported once). */
export class JwtTokenVerifier implements TokenVerifier {
  private readonly keys: Promise<KeyEntry[]>;
  private readonly cache = new VerifiedTokenCache();

  constructor(private readonly options: VerifyOptions) {
    this.keys = importVerifyKeys(options.publicKeys);
    this.keys.catch(() => undefined); // surfaced on first verify
  }

  async verify(token: string): Promise<CallerIdentity> {
    const now = this.options.now ?? new Date();
    const cached = this.cache.get(token, now.getTime());
    if (cached) return cached;
    const claims = await verifyWithKeys(token, await this.keys, { ...this.options, now });
    const caller = callerOf(claims);
    // Cached until expiry (no leeway), so an expired token is refused as promptly as without the cache.
    this.cache.set(token, caller, claims.exp * 1000);
    return caller;
  }
}

/** How long a TokenReview answer is reused (bound tokens of deleted pods stop working within this). */
const TOKEN_REVIEW_CACHE_MS = 30_000;

/** What a TokenReview answers (authentication.k8s.io/v1 TokenReviewStatus). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

export type TokenReviewFn = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;

/**
 * Cluster mode: asks the API server (KubeSource's TokenReview) and reads the bound-pod facts from the
 * `authentication.kubernetes.io/*` extra fields Kubernetes fills in for bound tokens.
 */
export class TokenReviewVerifier implements TokenVerifier {
  private readonly cache = new VerifiedTokenCache();

  constructor(
    private readonly review: TokenReviewFn,
    private readonly audience = 'weft',
  ) {}

  async verify(token: string): Promise<CallerIdentity> {
    if (typeof token !== 'string' || token.length === 0) throw invalid('empty token');
    const cached = this.cache.get(token, Date.now());
    if (cached) return cached;
    let status: TokenReviewStatus;
    try {
      status = await this.review(token, [this.audience]);
    } catch (err) {
      throw new WeftError('ERR_WEFT_CONTROL_TOKEN_REVIEW_FAILED', { reason: (err as Error).message }, { cause: err });
    }
    if (!status.authenticated) throw invalid(status.error || 'not authenticated by the API server');
    if (status.audiences && !status.audiences.includes(this.audience)) throw invalid(`audience ${JSON.stringify(status.audiences)} does not include ${this.audience}`);
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(status.user?.username ?? '');
    if (!m) throw invalid(`${status.user?.username ?? '(no user)'} is not a service account`);
    const extra = status.user?.extra ?? {};
    const first = (k: string): string | undefined => extra[`authentication.kubernetes.io/${k}`]?.[0];
    const caller: CallerIdentity = {
      namespace: m[1],
      serviceAccount: m[2],
      serviceAccountUid: status.user?.uid,
      podName: first('pod-name'),
      podUid: first('pod-uid'),
      nodeName: first('node-name'),
    };
    this.cache.set(token, caller, Date.now() + TOKEN_REVIEW_CACHE_MS);
    return caller;
  }
}
