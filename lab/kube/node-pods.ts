import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../../lib/backoff.js';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { KubeObject } from '../manifests.js';
import type { NodeApi } from './node-api.js';

/**
 * The pods the API server's scheduler bound to one lab node, as a kubelet sees them: a list-watch of
 * `/api/v1/pods?fieldSelector=spec.nodeName=<node>` with the node's own credentials (so the Node
 * authorizer decides what it may read), restarted with backoff after an error. It also carries the
 * kubelet's reads for its pods' volumes (bound ServiceAccount tokens through TokenRequest, ConfigMaps) and its two writes: the pod's status (serialised per pod, so an older status never lands after a
 * newer one) and, once a terminating pod's processes are gone, the final delete with grace period 0
 * guarded by the pod's uid (a pod of the same name made again meanwhile is left alone).
 */
const PODS = '/api/v1/pods';

export class NodePods {
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  private readonly writes = new Map<string, Promise<unknown>>();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;

  constructor(
    private readonly api: NodeApi,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {
    const fieldSelector = `spec.nodeName=${api.node}`;
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const res = await api.call<KubernetesListObject<KubernetesObject>>('GET', PODS, { query: { fieldSelector } });
      return res.body ?? { apiVersion: 'v1', kind: 'PodList', items: [], metadata: {} };
    };
    this.informer = new ListWatch<KubernetesObject>(PODS, new Watch(api.kc), listFn, false, undefined, fieldSelector);
    for (const verb of ['add', 'update', 'delete'] as const) this.informer.on(verb, () => this.changed());
    this.informer.on('error', (err: unknown) => this.restart(err));
  }

  start(): void {
    this.restartTimer = undefined;
    if (this.stopped) return;
    this.informer.start().then(
      () => {
        if (!this.synced) this.log.info({ pods: this.list().length }, 'watching the pods bound to this node');
        this.synced = true;
        this.api.succeeded();
        this.onChange();
      },
      (err: unknown) => this.restart(err),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** Whether the first list arrived: before it, "no pods" means "not known yet", not "delete them all". */
  get isSynced(): boolean {
    return this.synced;
  }

  list(): KubeObject[] {
    return this.informer.list().map((p) => ({ ...p, kind: 'Pod', apiVersion: 'v1' }) as KubeObject);
  }

  writeStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    return this.serial(`${namespace}/${name}`, async () => {
      await this.api.call('PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, { body: { status }, contentType: 'application/merge-patch+json', allow: [404] });
    });
  }

  /**
   * A bound token of the pod's ServiceAccount (TokenRequest, bound to the pod): what a kubelet writes into a
   * projected serviceAccountToken volume. The Node authorizer lets a node ask only for pods bound to it.
   */
  async requestToken(o: { namespace: string; serviceAccount: string; pod: { name: string; uid: string }; audiences: readonly string[]; expirationSeconds?: number }): Promise<string> {
    const res = await this.api.call<{ status?: { token?: string } }>('POST', `/api/v1/namespaces/${o.namespace}/serviceaccounts/${o.serviceAccount}/token`, {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: o.audiences, expirationSeconds: o.expirationSeconds ?? 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: o.pod.name, uid: o.pod.uid } },
      },
    });
    const token = res.body?.status?.token;
    if (token === undefined) throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'POST', path: `serviceaccounts/${o.serviceAccount}/token`, status: res.status, reason: 'the TokenRequest answer holds no token' });
    return token;
  }

  /** A ConfigMap's data for a pod's volume (undefined: not there yet). */
  async configMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const res = await this.api.call<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${namespace}/configmaps/${name}`, { allow: [404] });
    return res.status === 404 ? undefined : (res.body?.data ?? {});
  }

  /** Removes a terminating pod whose processes and network are gone (404: already removed). */
  finalize(namespace: string, name: string, uid: string): Promise<void> {
    return this.serial(`${namespace}/${name}`, async () => {
      await this.api.call('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
        allow: [404, 409],
      });
    });
  }

  private serial(key: string, f: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(key) ?? Promise.resolve()).then(f, f);
    this.writes.set(key, next);
    void next.finally(() => {
      if (this.writes.get(key) === next) this.writes.delete(key);
    }).catch(() => undefined);
    return next;
  }

  private changed(): void {
    this.backoff.reset();
    this.onChange();
  }

  private restart(err: unknown): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    this.api.failed('the pod watch', err);
    this.restartTimer = setTimeout(() => this.start(), this.backoff.next());
    this.restartTimer.unref?.();
  }
}
