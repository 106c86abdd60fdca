import { LeaderGatedController, type LeaderGatedOptions } from './leader-gated.js';
import { WAYPOINT_CLASS } from '../lib/names.js';
import type { ConfigMapObject, KubeApi } from './sources/kube-api.js';
import { listOf } from './sources/schemas.js';
import type { ClusterSource, ObjectKind } from './sources/source.js';

export const CA_ROOT_CONFIGMAP = 'weft-ca-root';
export const CA_ROOT_KEY = 'root-cert.pem';
export const CA_ROOT_FIELD_MANAGER = 'weft-control';
/** How often every published ConfigMap is read back and repaired if needed. */
const DEFAULT_RESYNC_MS = 60_000;
const RETRY_MS = 5_000;
const WATCHED_KINDS: ReadonlySet<ObjectKind> = new Set(['Gateway', 'Namespace']);

/** `debounceMs` defaults to 100 ms. */
export interface CaRootPublisherOptions extends LeaderGatedOptions {
  readonly api: Pick<KubeApi, 'getConfigMap' | 'applyConfigMap'>;
  readonly source: Pick<ClusterSource, 'list' | 'on' | 'off'>;
  /** The control plane's namespace (always gets the ConfigMap). */
  readonly namespace: string;
  /** PEM roots of the trust bundle, the CA's own root first. */
  readonly rootsPem: readonly string[];
  /** How often every published ConfigMap is read back and repaired (default 60 s). */
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
export class CaRootPublisher extends LeaderGatedController {
  private content: string;
  /** Namespaces whose write failed in the last pass (retried sooner than the resync). */
  private failed = new Set<string>();

  constructor(private readonly options: CaRootPublisherOptions) {
    super(options, {
      component: 'ca-root',
      watches: WATCHED_KINDS,
      debounceMs: 100,
      resyncMs: options.resyncMs ?? DEFAULT_RESYNC_MS,
      failureMessage: 'publishing the trust root failed',
    });
    this.content = joinRoots(options.rootsPem);
  }

  /** New trust bundle (root rotation): every ConfigMap is rewritten. */
  setRoots(rootsPem: readonly string[]): void {
    this.content = joinRoots(rootsPem);
    this.schedule(0);
  }

  /** The namespaces that get the ConfigMap: the control namespace and every namespace with a waypoint. */
  namespaces(): string[] {
    const out = new Set([this.options.namespace]);
    for (const gw of listOf(this.options.source, 'Gateway')) {
      if (gw.spec.gatewayClassName === WAYPOINT_CLASS && gw.metadata.namespace !== undefined) out.add(gw.metadata.namespace);
    }
    return [...out].sort();
  }

  protected async pass(): Promise<void> {
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
    if (failed.size > 0) this.schedule(RETRY_MS);
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
