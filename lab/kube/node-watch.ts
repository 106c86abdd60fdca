import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../../lib/backoff.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { KubeObject } from '../manifests.js';
import type { NodeApi } from './node-api.js';

/**
 * One list-watch a lab node agent keeps with its own credentials (so the API server's authorizers decide
 * what it may read): the kubelet's pods bound to the node (Node authorizer), kube-proxy's Services and
 * EndpointSlices (RBAC: system:node-proxier). Restarted with backoff after an error; every change calls
 * `onChange`.
 */
export class NodeWatch {
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;

  constructor(
    private readonly api: NodeApi,
    private readonly o: { path: string; kind: string; apiVersion?: string; fieldSelector?: string; what: string; onChange: () => void; log: Logger },
  ) {
    const query = o.fieldSelector !== undefined ? { fieldSelector: o.fieldSelector } : undefined;
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const res = await api.call<KubernetesListObject<KubernetesObject>>('GET', o.path, query ? { query } : {});
      return res.body ?? { apiVersion: o.apiVersion ?? 'v1', kind: `${o.kind}List`, items: [], metadata: {} };
    };
    this.informer = new ListWatch<KubernetesObject>(o.path, new Watch(api.kc), listFn, false, undefined, o.fieldSelector);
    for (const verb of ['add', 'update', 'delete'] as const) this.informer.on(verb, () => this.changed());
    this.informer.on('error', (err: unknown) => this.restart(err));
  }

  start(): void {
    this.restartTimer = undefined;
    if (this.stopped) return;
    this.informer.start().then(
      () => {
        if (!this.synced) this.o.log.info({ objects: this.list().length }, 'watching %s', this.o.what);
        this.synced = true;
        this.api.succeeded();
        this.o.onChange();
      },
      (err: unknown) => this.restart(err),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** Whether the first list arrived: before it, "none" means "not known yet", not "delete them all". */
  get isSynced(): boolean {
    return this.synced;
  }

  list(): KubeObject[] {
    return this.informer.list().map((x) => ({ ...x, kind: this.o.kind, apiVersion: this.o.apiVersion ?? 'v1' }) as KubeObject);
  }

  private changed(): void {
    this.backoff.reset();
    this.o.onChange();
  }

  private restart(err: unknown): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    this.api.failed(this.o.what, err);
    this.restartTimer = setTimeout(() => this.start(), this.backoff.next());
    this.restartTimer.unref?.();
  }
}
