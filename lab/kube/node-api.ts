import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeRest, type KubeRequestOptions, type KubeResponse, type KubeStatus } from '../../control/sources/kube-rest.js';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';

/**
 * A lab node agent's connection to the API server with its own credentials (node-credentials.ts): the
 * kubelet's as its node (`system:node:<node>`), kube-proxy's as `system:kube-proxy`. Every request goes
 * through `call`, which turns a refusal of the credentials (401, 403) into ERR_WEFT_LAB_KUBELET_REFUSED
 * naming the agent, the node, the request and the kubeconfig, and logs each distinct failure once (the
 * agents retry every second while the API server starts).
 */
export type NodeAgent = 'kubelet' | 'kube-proxy';

export class NodeApi {
  readonly rest: KubeRest;
  private lastError = '';

  constructor(
    readonly node: string,
    readonly kubeconfig: string,
    readonly kc: KubeConfig,
    private readonly log: Logger,
    readonly agent: NodeAgent = 'kubelet',
  ) {
    this.rest = new KubeRest(kc);
  }

  /**
   * Waits for the node's kubeconfig (`up` writes it beside starting the control plane) and loads it;
   * undefined when `closed()` turns true first.
   */
  static async connect(node: string, kubeconfig: string, log: Logger, closed: () => boolean, agent: NodeAgent = 'kubelet'): Promise<NodeApi | undefined> {
    let said = false;
    while (!existsSync(kubeconfig)) {
      if (closed()) return undefined;
      if (!said) log.info({ kubeconfig }, 'waiting for the %s credentials', agent);
      said = true;
      await sleep(200);
    }
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return new NodeApi(node, kubeconfig, kc, log, agent);
  }

  async call<T>(method: string, path: string, options: KubeRequestOptions & { allow?: readonly number[] } = {}): Promise<KubeResponse<T>> {
    const res = await this.rest.request<T>(method, path, options);
    if ((res.status >= 200 && res.status < 300) || options.allow?.includes(res.status) === true) return res;
    const reason = (res.body as KubeStatus | undefined)?.message ?? 'no message';
    if (res.status === 401 || res.status === 403) {
      throw new WeftError('ERR_WEFT_LAB_KUBELET_REFUSED', { agent: this.agent, node: this.node, method, path, status: res.status, reason, kubeconfig: this.kubeconfig });
    }
    throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method, path, status: res.status, reason });
  }

  /** Logs a failed step once per distinct message (then again after a success). */
  failed(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message === this.lastError) return;
    this.lastError = message;
    const code = err instanceof WeftError ? err.code : undefined;
    this.log.error({ err, code }, '%s failed; retrying', what);
  }

  succeeded(): void {
    this.lastError = '';
  }
}
