import type { CertificateAuthority } from '../lib/identity/index.js';
import { isWeftError } from '../lib/errors/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import { silentLogger } from '../lib/telemetry/log.js';
import { loadMaterial, sameMaterial, type CaBackend, type CaMaterial } from './ca-store.js';

/** How often the CA store is read for a rotation step (the Secret weft-ca, or the files of --ca-dir). */
export const DEFAULT_CA_RELOAD_MS = 5_000;

export interface LiveCa {
  readonly ca: CertificateAuthority;
  /** The trust bundle: the CA's own root first, then the extra roots (roots.pem). */
  readonly rootsPem: string[];
}

export interface CaReloaderOptions {
  readonly backend: CaBackend;
  readonly trustDomain: string;
  /** Leaf lifetime cap of the CA (weft-control --leaf-lifetime), as at start. */
  readonly leafLifetimeSeconds?: number;
  /** The material loaded at start. */
  readonly initial: CaMaterial;
  /** Applies a new CA and bundle (signer, serving certificate, discovery, ConfigMap); a throw is logged and retried. */
  readonly apply: (next: LiveCa) => Promise<void> | void;
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

/**
 * Root rotation without restarts (docs/rotation.md): re-reads the CA store every few seconds and, when
 * an operator changed it (new extra roots, a new ca.crt/ca.key), hands the new CA and trust bundle to
 * `apply`. Material that does not load (say ca.crt already replaced but ca.key not yet) is refused with
 * one warning and the previous CA stays in use until the store is consistent again.
 */
export class CaReloader {
  private current: CaMaterial;
  private refused: CaMaterial | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: CaReloaderOptions) {
    this.current = options.initial;
    this.log = (options.logger ?? silentLogger).child({ component: 'ca-reload' });
  }

  start(): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.check().finally(tick);
      }, this.options.intervalMs ?? DEFAULT_CA_RELOAD_MS);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reads the store once; true when a new CA or bundle was applied. Concurrent calls share one read. */
  check(): Promise<boolean> {
    this.running ??= this.read().finally(() => (this.running = undefined));
    return this.running;
  }

  private async read(): Promise<boolean> {
    let stored: CaMaterial | undefined;
    try {
      stored = await this.options.backend.read();
    } catch (err) {
      this.log.warn({ origin: this.options.backend.origin, err: isWeftError(err) ? err.message : err }, 'cannot read the CA store; keeping the current CA');
      return false;
    }
    if (stored === undefined || sameMaterial(stored, this.current)) return false;
    if (this.refused !== undefined && sameMaterial(stored, this.refused)) return false;
    let next: LiveCa;
    try {
      next = await loadMaterial(stored, this.options, this.options.backend.origin);
    } catch (err) {
      this.refused = stored;
      this.log.warn({ origin: this.options.backend.origin, code: isWeftError(err) ? err.code : undefined, err: (err as Error).message }, 'the changed CA material does not load; keeping the current CA until it does');
      return false;
    }
    try {
      await this.options.apply(next);
    } catch (err) {
      this.log.error({ err }, 'applying the changed CA failed; will retry');
      return false;
    }
    const signerChanged = stored.certChainPem.trim() !== this.current.certChainPem.trim();
    this.current = stored;
    this.refused = undefined;
    this.log.info({ origin: this.options.backend.origin, roots: next.rootsPem.length, signerChanged, signerNotAfter: next.ca.notAfter.toISOString() }, 'CA store changed: new trust bundle%s', signerChanged ? ' and signing CA' : '');
    return true;
  }
}
