import { EventEmitter } from 'node:events';
import { Gauge, type Registry } from 'prom-client';
import { WeftError, isWeftError } from '../errors/index.js';
import { Backoff, jitter } from '../backoff.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { x509 } from './crypto.js';
import { generateKeyPair, exportPrivateKeyPem } from './keys.js';
import { createCsr } from './csr.js';
import { DEFAULT_LIFETIME_SECONDS, type CertificateAuthority } from './ca.js';
import type { SpiffeId } from './spiffe.js';

/** Obtains a signed chain for a CSR: the control plane's IdentityService, or a local CA. */
export interface Certifier {
  certify(csrPem: string, identity: SpiffeId, lifetimeSeconds: number): Promise<string[]>;
}

/** Signs with a CA in this process: the node agent's --local-config mode, tests and demos. */
export class LocalCertifier implements Certifier {
  constructor(private readonly ca: CertificateAuthority) {}

  async certify(csrPem: string, identity: SpiffeId, lifetimeSeconds: number): Promise<string[]> {
    return (await this.ca.sign(csrPem, { identity, lifetimeSeconds })).certChainPem;
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

export interface CertificateManagerOptions {
  readonly certifier: Certifier;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly lifetimeSeconds?: number;
  /** Fraction of the lifetime after which to renew (default 0.5, "half-life"). */
  readonly renewAt?: number;
  /** ± fraction of jitter on the renewal time so that many certificates do not renew in step. */
  readonly renewJitter?: number;
  /** Retry pacing for failed requests. */
  readonly retry?: { initialMs: number; maxMs: number };
}

interface Entry {
  cert?: WorkloadCertificate;
  inflight?: Promise<WorkloadCertificate>;
  timer?: NodeJS.Timeout;
  backoff: Backoff;
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
  private readonly lifetime: number;
  private readonly renewAt: number;
  private readonly renewJitter: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private closed = false;

  constructor(options: CertificateManagerOptions) {
    super();
    this.certifier = options.certifier;
    this.log = (options.logger ?? silentLogger).child({ component: 'identity.certificates' });
    this.lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
    this.renewAt = options.renewAt ?? 0.5;
    this.renewJitter = options.renewJitter ?? 0.05;
    this.retry = options.retry ?? { initialMs: 1000, maxMs: 60_000 };
    if (options.registry) this.registerMetrics(options.registry);
  }

  /** The identity's current certificate, requesting one when none is held or it has expired. */
  get(identity: SpiffeId): Promise<WorkloadCertificate> {
    if (this.closed) return Promise.reject(new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: 'manager closed' }));
    const key = identity.toString();
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { backoff: new Backoff({ ...this.retry }) }));
    if (entry.cert && entry.cert.notAfter.getTime() > Date.now()) return Promise.resolve(entry.cert);
    return entry.inflight ?? this.request(identity, entry);
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

  /** Identities currently held. */
  identities(): string[] {
    return [...this.entries.keys()];
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
        this.schedule(identity, entry, this.renewalDelay(cert));
        this.emit('renewed', cert);
        this.log.debug({ identity: cert.identity.toString(), notAfter: cert.notAfter.toISOString() }, 'certificate issued');
        return cert;
      },
      (err: unknown) => {
        if (entry.inflight === p) entry.inflight = undefined;
        const wrapped = isWeftError(err) ? err : new WeftError('ERR_WEFT_CERT_ISSUE_FAILED', { identity: identity.toString(), reason: String((err as Error)?.message ?? err) }, { cause: err });
        // Keep serving the old certificate while it is valid and retry with backoff; callers
        // waiting on this request get the error.
        if (this.entries.get(identity.toString()) === entry && entry.cert && !this.closed) {
          const delay = entry.backoff.next();
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

  private renewalDelay(cert: WorkloadCertificate): number {
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    const at = cert.notBefore.getTime() + life * this.renewAt;
    return Math.max(0, jitter(at - Date.now(), this.renewJitter));
  }

  private schedule(identity: SpiffeId, entry: Entry, delayMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    // Timers beyond 2^31-1 ms overflow to 1 ms in Node; cap and re-arm.
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.closed || this.entries.get(identity.toString()) !== entry) return;
      if (entry.cert && this.renewalDelay(entry.cert) > 0 && delayMs >= MAX_TIMER) return this.schedule(identity, entry, this.renewalDelay(entry.cert));
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
