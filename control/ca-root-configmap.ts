import type { Logger } from '../lib/telemetry/log.js';
import { silentLogger } from '../lib/telemetry/log.js';
import type { LeaderElection } from './leader.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { WAYPOINT_CLASS } from '../lib/names.js';
import type { ConfigMapObject, KubeApi } from './sources/kube-api.js';
import { listOf } from './sources/schemas.js';
import type { ClusterSource, SourceChange } from './sources/source.js';

export const CA_ROOT_CONFIGMAP = 'weft-ca-root';
export const CA_ROOT_KEY = 'root-cert.pem';
export const CA_ROOT_FIELD_MANAGER = 'weft-control';
/** How often every published ConfigMap is read back and repaired if needed. */
const DEFAULT_RESYNC_MS = 60_000;
const RETRY_MS = 5_000;

export interface CaRootPublisherOptions {
  readonly api: Pick<KubeApi, 'getConfigMap' | 'applyConfigMap'>;
  readonly source: Pick<ClusterSource, 'list' | 'on' | 'off'>;
  readonly leader: LeaderElection;
  /** The control plane's namespace (always gets the ConfigMap). */
  readonly namespace: string;
  /** PEM roots of the trust bundle, the CA's own root first. */
  readonly rootsPem: readonly string[];
  readonly logger?: Logger;
  readonly debounceMs?: number;
  readonly resyncMs?: number;
}

/**
 * The trust root data planes use to verify the control plane (cluster mode), published as ConfigMap
 * `weft-ca-root`, key `root-cert.pem` — what the node-agent DaemonSet (helm/weft) and the generated waypoint
 * Deployments (waypoints/objects.ts) mount for `--ca-root` — in the control namespace and in every
 * namespace that runs a waypoint (a Gateway of class `weft-waypoint`), as istiod publishes
 * `istio-ca-root-cert`. It holds every root of the trust bundle (several during a rotation). Kept up to
 * date: on leadership, when Gateways or Namespaces change, when the roots change (`setRoots`), and by a
 * periodic check that repairs a ConfigMap someone edited or deleted. Only the leader writes; ConfigMaps of
 * namespaces that no longer run a waypoint are left in place (data planes may still mount them).
 */
export class CaRootPublisher {
  private readonly log: Logger;
  private readonly loop: ReconcileLoop;
  private content: string;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Namespaces whose write failed in the last pass (retried sooner than the resync). */
  private failed = new Set<string>();
  private readonly onChange = (changes: readonly SourceChange[]): void => {
    if (changes.some((c) => c.object.kind === 'Gateway' || c.object.kind === 'Namespace')) this.loop.schedule();
  };
  private readonly onLeader = (): void => this.loop.schedule(0);

  constructor(private readonly options: CaRootPublisherOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'ca-root' });
    this.content = joinRoots(options.rootsPem);
    this.loop = new ReconcileLoop(() => this.reconcile(), {
      debounceMs: options.debounceMs ?? 100,
      onError: (err) => this.log.error({ err }, 'publishing the trust root failed'),
    });
  }

  start(): void {
    this.options.source.on('change', this.onChange);
    this.options.leader.on('leader', this.onLeader);
    const resync = this.options.resyncMs ?? DEFAULT_RESYNC_MS;
    this.resyncTimer = setInterval(() => this.loop.schedule(0), resync);
    this.resyncTimer.unref();
    if (this.options.leader.isLeader) this.loop.schedule(0);
  }

  async stop(): Promise<void> {
    this.options.source.off('change', this.onChange);
    this.options.leader.off('leader', this.onLeader);
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    await this.loop.stop();
  }

  /** New trust bundle (root rotation): every ConfigMap is rewritten. */
  setRoots(rootsPem: readonly string[]): void {
    this.content = joinRoots(rootsPem);
    this.loop.schedule(0);
  }

  /** Resolves once no pass is pending or running (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** The namespaces that get the ConfigMap: the control namespace and every namespace with a waypoint. */
  namespaces(): string[] {
    const out = new Set([this.options.namespace]);
    for (const gw of listOf(this.options.source, 'Gateway')) {
      if (gw.spec.gatewayClassName === WAYPOINT_CLASS && gw.metadata.namespace !== undefined) out.add(gw.metadata.namespace);
    }
    return [...out].sort();
  }

  private async reconcile(): Promise<void> {
    if (!this.options.leader.isLeader || this.loop.isStopped) return;
    const content = this.content;
    const failed = new Set<string>();
    for (const ns of this.namespaces()) {
      try {
        const current = await this.options.api.getConfigMap(ns, CA_ROOT_CONFIGMAP);
        if (current?.data?.[CA_ROOT_KEY] === content && current.metadata.labels?.[MANAGED_BY] === CA_ROOT_FIELD_MANAGER) continue;
        await this.options.api.applyConfigMap(desired(ns, content), CA_ROOT_FIELD_MANAGER);
        this.log.info({ namespace: ns, created: current === undefined }, 'published the trust root ConfigMap %s', CA_ROOT_CONFIGMAP);
      } catch (err) {
        failed.add(ns);
        if (!this.failed.has(ns)) this.log.warn({ namespace: ns, err: (err as Error).message }, 'publishing the trust root ConfigMap failed; will retry');
      }
    }
    this.failed = failed;
    if (failed.size > 0) this.loop.schedule(RETRY_MS);
  }
}

const MANAGED_BY = 'app.kubernetes.io/managed-by';

function desired(namespace: string, content: string): ConfigMapObject {
  return {
    metadata: {
      name: CA_ROOT_CONFIGMAP,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'weft', 'app.kubernetes.io/component': 'ca-root', [MANAGED_BY]: CA_ROOT_FIELD_MANAGER },
      annotations: { 'weft.dev/description': 'Trust root(s) of the weft control plane; data planes mount it as --ca-root' },
    },
    data: { [CA_ROOT_KEY]: content },
  };
}

function joinRoots(rootsPem: readonly string[]): string {
  return rootsPem.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}
