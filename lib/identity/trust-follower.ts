import { Gauge, type Registry } from 'prom-client';
import type { ResourceKind, StateView } from '../model/index.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import type { CertificateManager, WorkloadCertificate } from './certificate-manager.js';
import { notUnderSigningRoot } from './root-rotation.js';

/**
 * Certificates left under the previous signing root are renewed within this window after the bundle
 * names a new one (docs/rotation.md, step 2): spread so that a node's identities do not call Certify
 * together, short so that the old root can be removed minutes, not a leaf lifetime, after the switch.
 */
export const ROOT_SWITCH_RENEW_SPREAD_MS = 10_000;

/** Renewals that came back under another root than the signing one are repeated at most this often per bundle change. */
const MAX_RENEWAL_RETRIES = 3;

export interface TrustFollowerOptions {
  /** The data plane's state: the discovered TrustBundle and its changes. */
  readonly view: Pick<StateView, 'trustBundle' | 'on' | 'off'>;
  /** Roots while the state has no TrustBundle. */
  readonly fallbackRoots?: readonly string[];
  readonly certs: CertificateManager;
  /** Applies new roots to what verifies peers: servers' contexts, pools' sessions (closing untrusted ones). */
  readonly onRoots: (roots: readonly string[]) => void | Promise<unknown>;
  readonly renewSpreadMs?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/**
 * Follows the trust bundle live (root rotation without restarts): every change of its roots is handed
 * to `onRoots` at once, and every held certificate that is not under the bundle's signing root (its first)
 * is renewed within `renewSpreadMs`. `weft_workload_certificates_not_under_signing_root` counts the ones
 * still waiting: 0 on every node means the old root can go. Returns the unsubscribe function.
 */
export function followTrustBundle(o: TrustFollowerOptions): () => void {
  const log = (o.logger ?? silentLogger).child({ component: 'identity.trust' });
  const spread = o.renewSpreadMs ?? ROOT_SWITCH_RENEW_SPREAD_MS;
  const current = (): readonly string[] => o.view.trustBundle()?.roots ?? o.fallbackRoots ?? [];
  let roots = current();
  const outdated = new Set<string>();
  if (o.registry !== undefined && o.registry.getSingleMetric('weft_workload_certificates_not_under_signing_root') === undefined) {
    new Gauge({
      name: 'weft_workload_certificates_not_under_signing_root',
      help: 'Workload certificates held that do not chain to the trust bundle\'s signing root (renewal pending after a root switch).',
      registers: [o.registry],
      collect() {
        this.set(outdated.size);
      },
    });
  }
  const judge = async (cert: WorkloadCertificate, rs: readonly string[]): Promise<void> => {
    const old = await notUnderSigningRoot(rs)(cert);
    if (rs !== roots) return; // a newer bundle is being judged
    if (old) outdated.add(cert.identity.toString());
    else outdated.delete(cert.identity.toString());
  };
  const onChange = (kinds: ReadonlySet<ResourceKind>): void => {
    if (!kinds.has('TrustBundle')) return;
    const next = current();
    if (sameContent(next, roots)) return;
    roots = next;
    log.info({ roots: next.length }, 'trust bundle changed; applying it to new and established sessions');
    const rs = next;
    Promise.resolve(o.onRoots(rs)).catch((err: unknown) => log.warn({ err }, 'applying the new trust roots failed'));
    outdated.clear();
    retries.clear();
    const isOld = notUnderSigningRoot(rs);
    o.certs
      .renewWhere(async (cert) => {
        const old = await isOld(cert);
        if (old && rs === roots) outdated.add(cert.identity.toString());
        return old;
      }, spread)
      .then(
        (n) => n > 0 && log.info({ certificates: n, withinMs: spread }, 'renewing certificates issued under another root than the signing one'),
        (err: unknown) => log.warn({ err }, 'planning renewals after the trust bundle change failed'),
      );
  };
  // A renewal can still come back under the old root (another control plane replica has not switched
  // yet): renew such a certificate again, a few times per bundle change, further apart each time.
  const retries = new Map<string, number>();
  const onRenewed = (cert: WorkloadCertificate): void => {
    const rs = roots;
    judge(cert, rs)
      .then(() => {
        const key = cert.identity.toString();
        if (rs !== roots || !outdated.has(key)) return;
        const n = (retries.get(key) ?? 0) + 1;
        if (n > MAX_RENEWAL_RETRIES) return;
        retries.set(key, n);
        return o.certs.renewWhere((c) => c === cert, spread * n);
      })
      .catch(() => undefined);
  };
  o.view.on('change', onChange);
  o.certs.on('renewed', onRenewed);
  return () => {
    o.view.off('change', onChange);
    o.certs.off('renewed', onRenewed);
  };
}

function sameContent(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p.trim() === b[i].trim());
}
