import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Backoff } from '../../lib/backoff.js';
import { GATEWAY_API_GROUP, WEFT_API_GROUP, crdInstallCommand } from '../../lib/crd-install.js';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { KubeApi } from './kube-api.js';
import type { KubeStatus } from './kube-rest.js';
import { KIND_INFO } from './schemas.js';
import type { ObjectKind } from './source.js';

/** Which kubeconfig the default loading reads, for messages: KUBECONFIG, ~/.kube/config, or in-cluster. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') return env.KUBECONFIG;
  if (env.KUBERNETES_SERVICE_HOST !== undefined) return 'in-cluster (ServiceAccount)';
  return join(env.HOME ?? homedir(), '.kube', 'config');
}

/** The error for a kind whose CRD is not installed: which CRD, and the command that installs it
 *  (undefined for a built-in kind, which no CRD defines). */
export function crdMissing(kind: ObjectKind): WeftError | undefined {
  const info = KIND_INFO[kind];
  if (info.group !== GATEWAY_API_GROUP && info.group !== WEFT_API_GROUP) return undefined;
  return new WeftError('ERR_WEFT_SOURCE_CRD_MISSING', { kinds: `${info.apiVersion} ${kind}`, crds: `${info.plural}.${info.group}`, command: crdInstallCommand(info.group) });
}

/**
 * One authenticated request (GET /version) before any informer starts, so that a kubeconfig naming the
 * wrong server or carrying bad credentials is one clear error instead of an informer per kind retrying
 * for ever. Credentials refused: thrown at once (retrying cannot help). No answer: retried with backoff
 * for `timeoutMs` (an API server restarting beside the control plane), then thrown.
 */
export async function reachApiServer(api: KubeApi, kc: KubeConfig, timeoutMs: number, log: Logger): Promise<void> {
  const server = kc.getCurrentCluster()?.server ?? '(none)';
  const path = kubeconfigPath();
  const deadline = Date.now() + timeoutMs;
  const backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
  for (;;) {
    let reason: string;
    try {
      const res = await api.rest.request<KubeStatus>('GET', '/version', { timeoutMs: Math.max(1_000, Math.min(10_000, deadline - Date.now())) });
      if (res.status === 401) {
        throw new WeftError('ERR_WEFT_SOURCE_KUBE_UNAUTHORIZED', { server, user: kc.getCurrentUser()?.name ?? '(none)', path, reason: res.body?.message ?? 'Unauthorized' });
      }
      // Any other answer is an API server speaking: what it refuses is reported per request later.
      return;
    } catch (err) {
      if (err instanceof WeftError && err.code === 'ERR_WEFT_SOURCE_KUBE_UNAUTHORIZED') throw err;
      reason = err instanceof WeftError && typeof err.params.reason === 'string' ? err.params.reason : (err as Error).message;
    }
    const delay = backoff.next();
    if (Date.now() + delay > deadline) throw new WeftError('ERR_WEFT_SOURCE_KUBE_UNREACHABLE', { server, path, reason });
    log.warn({ server, err: reason, retryInMs: delay }, 'the Kubernetes API server did not answer; retrying');
    await new Promise((r) => setTimeout(r, delay));
  }
}
