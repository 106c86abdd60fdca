import { EventEmitter } from 'node:events';
import { Gauge, type Registry } from 'prom-client';
import { WeftError, isWeftError } from '../errors/index.js';
import { Backoff, jitter } from '../backoff.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { x509 } from './crypto.js';
import { generateKeyPair, exportPrivateKeyPem } from './keys.js';
import { createCsr } from './csr.js';
import type { CertificateAuthority } from './ca.js';
import { MAX_LEAF_LIFETIME_SECONDS, MIN_LEAF_LIFETIME_SECONDS } from './leaf-lifetime.js';
import type { SpiffeId } from './spiffe.js';

/** Obtains a signed chain for a CSR: the control plane's IdentityService, or a local CA. */
export interface Certifier {
  /** `lifetimeSeconds` 0: the lifetime the CA is configured with (weft-control's --leaf-lifetime). */
  certify(csrPem: string, identity: SpiffeId, lifetimeSeconds: number): Promise<string[]>;
}

/** Signs with a CA in this process: the node agent's --local-config mode, tests and demos. */
export class LocalCertifier implements Certifier {
  constructor(private readonly ca: CertificateAuthority) {}

  async certify(csrPem: string, identity: SpiffeId, lifetimeSeconds: number): Promise<string[]> {
    return (await this.ca.sign(csrPem, { identity, lifetimeSeconds: lifetimeSeconds > 0 ? lifetimeSeconds : undefined })).certChainPem;
  }
}

export interface WorkloadCertificate {
  readonly identity: SpiffeId;
  /** Leaf first, then intermediates. */
  readonly certChainPem: string[];
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Bounds of the leaf lifetime a data plane may ask for (the CA may still cap it lower, e.g. at its own expiry). */
export { MIN_LEAF_LIFETIME_SECONDS, MAX_LEAF_LIFETIME_SECONDS };
/**
 * No renewal is planned sooner than this after the last one. A CA near its own expiry caps leaves at it, so
 * half-life from the backdated notBefore (CLOCK_SKEW_SECONDS) can already be behind: without the floor the
 * manager renewed at once, got the same capped leaf, and looped (6 836 Certify calls in 30 s from one node).
 */
export const MIN_RENEWAL_DELAY_MS = 10_000;

export interface CertificateManagerOptions {
  readonly certifier: Certifier;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /**
   * Leaf lifetime to ask for, clamped to [MIN_LEAF_LIFETIME_SECONDS, MAX_LEAF_LIFETIME_SECONDS]. Default: ask
   * for none (0), so the control plane's configured lifetime (--leaf-lifetime, chart value
   * control.leafCertLifetimeSeconds, 24 h by default) applies to every data plane.
   */
  readonly lifetimeSeconds?: number;
  /** Fraction of the lifetime after which to renew (default 0.5, "half-life"). */
  readonly renewAt?: number;
  /** ± fraction of jitter on the renewal time so that many certificates do not renew in step. */
  readonly renewJitter?: number;
  /** Retry pacing for failed requests (exponential with jitter; a server's retry-after is honoured). */
  readonly retry?: { initialMs: number; maxMs: number };
  /** Random source in [0, 1) for the jitter; tests pin it. */
  readonly random?: () => number;
}

interface Entry {
  cert?: WorkloadCertificate;
  inflight?: Promise<WorkloadCertificate>;
  timer?: NodeJS.Timeout;
  backoff: Backoff;
  /** After a failed request while no valid certificate is held: no new request before this (ms epoch). */
  retryAtMs?: number;
  lastError?: WeftError;
}

/**
 * Holds one certificate per workload identity (ztunnel's SecretManager): generates the key, sends the
 * CSR through the Certifier, renews at half-life with jitter, retries with backoff while the old
 * certificate is still valid, and coalesces concurrent requests for the same identity into one.
 * Emits `renewed` (cert) and `error` (identity, err) — `error` only when a listener is attached.
 */
export class CertificateManager extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private readonly certifier: Certifier;
  private readonly log: Logger;
  /** 0: the CA's configured lifetime. */
  private readonly lifetime: number;
  private readonly renewAt: number;
  private readonly renewJitter: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly random: () => number;
  private closed = false;

  constructor(options: CertificateManagerOptions) {
    super();
    this.certifier = options.certifier;
    this.log = (options.logger ?? silentLogger).child({ component: 'identity.certificates' });
    this.lifetime =
      options.lifetimeSeconds === undefined ? 0 : Math.min(MAX_LEAF_LIFETIME_SECONDS, Math.max(MIN_LEAF_LIFETIME_SECONDS, options.lifetimeSeconds));
    this.renewAt = options.renewAt ?? 0.5;
    this.renewJitter = options.renewJitter ?? 0.05;
    this.retry = options.retry ?? { initialMs: 1000, maxMs: 60_000 };
    this.random = options.random ?? Math.random;
    if (options.registry) this.registerMetrics(options.registry);
  }

  /**
   * The identity's current certificate, requesting one when none is held or it has expired. After a failed
   * request, callers get that error again until the backoff delay has passed: many connections (or a
   * readiness loop) asking meanwhile make no Certify calls.
   */
  get(identity: SpiffeId): Promise<WorkloadCertificate> {
    if (this.closed) return Promise.reject(new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: 'manager closed' }));
    const key = identity.toString();
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { backoff: new Backoff({ ...this.retry, random: this.random }) }));
    if (entry.cert && entry.cert.notAfter.getTime() > Date.now()) return Promise.resolve(entry.cert);
    if (entry.inflight) return entry.inflight;
    if (entry.lastError && entry.retryAtMs !== undefined && Date.now() < entry.retryAtMs) return Promise.reject(entry.lastError);
    return this.request(identity, entry);
  }

  /** The held certificate without requesting; undefined when none is held. */
  cached(identity: SpiffeId): WorkloadCertificate | undefined {
    return this.entries.get(identity.toString())?.cert;
  }

  /** Stops renewing an identity (its last pod is gone) and drops its key. */
  forget(identity: SpiffeId): void {
    const entry = this.entries.get(identity.toString());
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(identity.toString());
  }

  /**
   * Renews, within `spreadMs` (uniformly spread, so that many identities do not call Certify at once),
   * every held certificate `outdated` says must go: a root rotation switched the signing CA and leaves
   * under the old root must be replaced before that root is removed. The old certificate keeps serving
   * until its successor arrives. Returns how many renewals were planned.
   */
  async renewWhere(outdated: (cert: WorkloadCertificate) => boolean | Promise<boolean>, spreadMs: number): Promise<number> {
    let planned = 0;
    for (const [key, entry] of [...this.entries]) {
      const cert = entry.cert;
      if (cert === undefined || !(await outdated(cert))) continue;
      if (this.closed || this.entries.get(key) !== entry || entry.cert !== cert) continue;
      this.schedule(cert.identity, entry, Math.floor(this.random() * Math.max(0, spreadMs)));
      planned++;
    }
    return planned;
  }

  /** Identities currently held. */
  identities(): string[] {
    return [...this.entries.keys()];
  }

  /** The certificates currently held (for the admin endpoint's summary; never sent with their keys). */
  held(): WorkloadCertificate[] {
    const out: WorkloadCertificate[] = [];
    for (const e of this.entries.values()) if (e.cert) out.push(e.cert);
    return out;
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }

  private request(identity: SpiffeId, entry: Entry): Promise<WorkloadCertificate> {
    const p = this.fetch(identity).then(
      (cert) => {
        if (entry.inflight === p) entry.inflight = undefined;
        if (this.entries.get(identity.toString()) !== entry) return cert; // forgotten meanwhile
        entry.cert = cert;
        entry.backoff.reset();
        entry.retryAtMs = undefined;
        entry.lastError = undefined;
        this.schedule(identity, entry, this.renewalDelay(cert));
        this.emit('renewed', cert);
        this.log.debug({ identity: cert.identity.toString(), notAfter: cert.notAfter.toISOString() }, 'certificate issued');
        return cert;
      },
      (err: unknown) => {
        if (entry.inflight === p) entry.inflight = undefined;
        const wrapped = isWeftError(err) ? err : new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: String((err as Error)?.message ?? err) }, { cause: err });
        // Keep serving the old certificate while it is valid and retry with backoff (jittered; at least
        // what the server asked for); callers waiting on this request get the error, and so does anyone
        // asking before the retry is due.
        const delay = Math.max(entry.backoff.next(), retryAfterOf(err));
        entry.retryAtMs = Date.now() + delay;
        entry.lastError = wrapped;
        if (this.entries.get(identity.toString()) === entry && entry.cert && !this.closed) {
          this.log.warn({ identity: identity.toString(), err: wrapped, retryInMs: delay }, 'certificate renewal failed; retrying');
          this.schedule(identity, entry, delay);
        }
        if (this.listenerCount('error') > 0) this.emit('error', identity, wrapped);
        throw wrapped;
      },
    );
    entry.inflight = p;
    return p;
  }

  private async fetch(identity: SpiffeId): Promise<WorkloadCertificate> {
    const keys = await generateKeyPair();
    const csr = await createCsr(identity, keys);
    const chain = await this.certifier.certify(csr, identity, this.lifetime);
    if (chain.length === 0) throw new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: 'empty chain returned' });
    const leaf = new x509.X509Certificate(chain[0]);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.find((n) => n.type === 'url')?.value;
    if (!identity.equals(san)) throw new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: `issued certificate names ${san ?? 'nothing'}` });
    return { identity, certChainPem: chain, keyPem: await exportPrivateKeyPem(keys.privateKey), notBefore: leaf.notBefore, notAfter: leaf.notAfter };
  }

  /**
   * When to renew: at `renewAt` of the lifetime (half-life), jittered. When that point is (nearly) behind —
   * the CA capped the leaf at its own near expiry — at `renewAt` of what is left instead, and never sooner
   * than MIN_RENEWAL_DELAY_MS: a leaf capped at 4 min renews after ~2 min, then ~1 min, ... not in a loop.
   */
  private renewalDelay(cert: WorkloadCertificate): number {
    const now = Date.now();
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    const at = cert.notBefore.getTime() + life * this.renewAt;
    const planned = jitter(at - now, this.renewJitter, this.random);
    if (planned >= MIN_RENEWAL_DELAY_MS) return planned;
    const left = (cert.notAfter.getTime() - now) * this.renewAt;
    return Math.max(MIN_RENEWAL_DELAY_MS, jitter(left, this.renewJitter, this.random));
  }

  private schedule(identity: SpiffeId, entry: Entry, delayMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    // Timers beyond 2^31-1 ms overflow to 1 ms in Node; cap and re-arm.
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.closed || this.entries.get(identity.toString()) !== entry) return;
      if (entry.cert && delayMs >= MAX_TIMER) return this.schedule(identity, entry, this.renewalDelay(entry.cert));
      if (!entry.inflight) this.request(identity, entry).catch(() => undefined);
    }, Math.min(delayMs, MAX_TIMER));
    entry.timer.unref();
  }

  private registerMetrics(registry: Registry): void {
    const entries = this.entries;
    new Gauge({
      name: 'weft_workload_certificate_expiry_seconds',
      help: 'Seconds until the workload certificate of an identity expires (negative once expired).',
      labelNames: ['identity'],
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const [id, e] of entries) if (e.cert) this.set({ identity: id }, (e.cert.notAfter.getTime() - now) / 1000);
      },
    });
  }
}

const MAX_TIMER = 2 ** 31 - 1;

/** The delay a server asked for (ERR_WEFT_CONTROL_RATE_LIMITED carries `weft-retry-after-ms`), else 0. */
function retryAfterOf(err: unknown): number {
  const v = isWeftError(err) ? err.params.retryAfterMs : undefined;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, 10 * 60_000) : 0;
}
