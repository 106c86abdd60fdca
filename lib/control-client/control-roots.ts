import { readFile } from 'node:fs/promises';
import type { experimental } from '@grpc/grpc-js';
import { splitPemCertificates } from '../identity/index.js';
import type { ResourceKind, StateView } from '../model/index.js';
import { silentLogger, type Logger } from '../telemetry/log.js';

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;

/** How often the --ca-root file is read again (a kubelet updates a mounted ConfigMap within ~1 min). */
export const CONTROL_ROOTS_FILE_INTERVAL_MS = 2_000;

/**
 * The roots a data plane verifies weft-control's serving certificate with, kept live through a root
 * rotation (docs/rotation.md): the union of the --ca-root file (the ConfigMap weft-ca-root, re-read
 * every few seconds) and the trust bundle the control plane last pushed. The union never locks a data
 * plane out: whichever of the two learns of a new root first lets new connections verify it. gRPC reads
 * it per connection (a CertificateProvider): established channels and streams are not touched.
 */
export class ControlRoots implements CertificateProvider {
  private fileRoots: string[];
  private bundleRoots: readonly string[] = [];
  private pem: string;
  private readonly listeners = new Set<CaListener>();
  private timer: NodeJS.Timeout | undefined;
  private view: Pick<StateView, 'trustBundle' | 'off'> | undefined;
  private readonly log: Logger;

  constructor(initialPem: string, options: { logger?: Logger } = {}) {
    this.fileRoots = splitPemCertificates(initialPem);
    this.pem = this.join();
    this.log = (options.logger ?? silentLogger).child({ component: 'control-client.roots' });
  }

  /** Reads `file` (the --ca-root PEM) and keeps following it. */
  static async fromFile(file: string, options: { logger?: Logger; intervalMs?: number } = {}): Promise<ControlRoots> {
    const roots = new ControlRoots(await readFile(file, 'utf8'), { logger: options.logger });
    roots.watchFile(file, options.intervalMs);
    return roots;
  }

  /** The current roots as one PEM. */
  current(): string {
    return this.pem;
  }

  /** Follows the trust bundle of a data plane's state (pushed by the control plane). */
  follow(view: Pick<StateView, 'trustBundle' | 'on' | 'off'>): void {
    this.view = view;
    view.on('change', this.onChange);
    this.onChange(new Set(['TrustBundle']));
  }

  setBundleRoots(roots: readonly string[]): void {
    this.bundleRoots = roots.flatMap((p) => splitPemCertificates(p));
    this.update();
  }

  close(): void {
    clearInterval(this.timer);
    this.view?.off('change', this.onChange);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.listeners.add(listener);
    listener({ caCertificate: Buffer.from(this.pem) });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.listeners.delete(listener);
  }

  // The control channel has no client certificate.
  addIdentityCertificateListener(): void {}
  removeIdentityCertificateListener(): void {}

  private readonly onChange = (kinds: ReadonlySet<ResourceKind>): void => {
    if (!kinds.has('TrustBundle')) return;
    const tb = this.view?.trustBundle();
    if (tb !== undefined) this.setBundleRoots(tb.roots);
  };

  private watchFile(file: string, intervalMs = CONTROL_ROOTS_FILE_INTERVAL_MS): void {
    clearInterval(this.timer);
    let reading = false;
    this.timer = setInterval(() => {
      if (reading) return;
      reading = true;
      readFile(file, 'utf8')
        .then(
          (text) => {
            const roots = splitPemCertificates(text);
            // A file being rewritten may read empty for a moment: keep the last roots.
            if (roots.length === 0) return;
            this.fileRoots = roots;
            this.update();
          },
          (err: unknown) => this.log.debug({ err, file }, 'cannot read the control plane root file; keeping the last roots'),
        )
        .finally(() => (reading = false));
    }, intervalMs);
    this.timer.unref();
  }

  private join(): string {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of [...this.fileRoots, ...this.bundleRoots]) {
      const k = p.trim();
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(`${k}\n`);
    }
    return out.join('');
  }

  private update(): void {
    const pem = this.join();
    if (pem === this.pem) return;
    this.pem = pem;
    this.log.info({ roots: pem.split('-----BEGIN CERTIFICATE-----').length - 1 }, 'control plane trust roots changed; new connections use them');
    for (const l of this.listeners) l({ caCertificate: Buffer.from(pem) });
  }
}
