import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { KubeObject } from '../manifests.js';
import type { NodeApi } from './node-api.js';
import { NodeWatch } from './node-watch.js';

/**
 * The pods the API server's scheduler bound to one lab node, as a kubelet sees them: a list-watch of
 * `/api/v1/pods?fieldSelector=spec.nodeName=<node>` with the node's own credentials (node-watch.ts). It also carries the
 * kubelet's reads for its pods' volumes (bound ServiceAccount tokens through TokenRequest, ConfigMaps) and its two writes: the pod's status (serialised per pod, so an older status never lands after a
 * newer one) and, once a terminating pod's processes are gone, the final delete with grace period 0
 * guarded by the pod's uid (a pod of the same name made again meanwhile is left alone).
 */
export class NodePods {
  private readonly watch: NodeWatch;
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly api: NodeApi,
    onChange: () => void,
    log: Logger,
  ) {
    this.watch = new NodeWatch(api, { path: '/api/v1/pods', kind: 'Pod', fieldSelector: `spec.nodeName=${api.node}`, what: 'the pods bound to this node', onChange, log });
  }

  start(): void {
    this.watch.start();
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }

  /** Whether the first list arrived: before it, "no pods" means "not known yet", not "delete them all". */
  get isSynced(): boolean {
    return this.watch.isSynced;
  }

  list(): KubeObject[] {
    return this.watch.list();
  }

  /** Where the node reaches the API server (https://host:port): its pods' in-cluster address. */
  get server(): URL | undefined {
    const s = this.api.kc.getCurrentCluster()?.server;
    return s ? new URL(s) : undefined;
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
  async requestToken(o: { namespace: string; serviceAccount: string; pod: { name: string; uid: string }; audiences: readonly string[]; expirationSeconds?: number }): Promise<{ token: string; expirationTimestamp: string }> {
    const res = await this.api.call<{ status?: { token?: string; expirationTimestamp?: string } }>('POST', `/api/v1/namespaces/${o.namespace}/serviceaccounts/${o.serviceAccount}/token`, {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: o.audiences, expirationSeconds: o.expirationSeconds ?? 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: o.pod.name, uid: o.pod.uid } },
      },
    });
    const token = res.body?.status?.token;
    const expirationTimestamp = res.body?.status?.expirationTimestamp;
    if (token === undefined || expirationTimestamp === undefined || Number.isNaN(Date.parse(expirationTimestamp))) {
      throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'POST', path: `serviceaccounts/${o.serviceAccount}/token`, status: res.status, reason: 'the TokenRequest answer holds no token or no expirationTimestamp' });
    }
    return { token, expirationTimestamp };
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
}
