import { KubeConfig } from '@kubernetes/client-node';
import { KubeRest } from '../../control/sources/kube-rest.js';
import { CONTROL_NAMESPACE } from '../../lib/names.js';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { writeAtomic } from '../atomic-file.js';
import { TokenRefresher, type MintedToken } from '../token-refresh.js';

/**
 * A lab node agent's credential, as the chart's DaemonSet pod would hold it but bound to the Node object
 * (the agent is a lab process, not a pod): a TokenRequest for ServiceAccount weft-system/weft-node-agent,
 * audience `weft`, bound to the Node (name and uid), so that TokenReview answers with the
 * `authentication.kubernetes.io/node-name` extra weft-control's node check reads. 12 h, as the chart asks
 * for its agents' tokens. `up` writes the first one before it starts the agent; the node's kubelet-main
 * keeps it fresh (token-refresh.ts: again at 80 % of its lifetime). The Node authorizer lets a kubelet ask
 * only for tokens bound to its own pods, so both ask with the lab's in-lab admin credentials.
 */
export const AGENT_SERVICE_ACCOUNT = 'weft-node-agent';
export const AGENT_TOKEN_AUDIENCE = 'weft';
export const AGENT_TOKEN_SECONDS = 12 * 3600;

interface TokenRequestAnswer {
  status?: { token?: string; expirationTimestamp?: string };
}

export async function writeAgentToken(rest: KubeRest, node: string, file: string): Promise<MintedToken> {
  const asked = Date.now();
  const got = await rest.expect<{ metadata?: { uid?: string } }>('GET', `/api/v1/nodes/${node}`);
  const uid = got.body?.metadata?.uid;
  if (uid === undefined) throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'GET', path: `nodes/${node}`, status: got.status, reason: 'the Node has no uid' });
  const path = `/api/v1/namespaces/${CONTROL_NAMESPACE}/serviceaccounts/${AGENT_SERVICE_ACCOUNT}/token`;
  const res = await rest.expect<TokenRequestAnswer>('POST', path, {
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [AGENT_TOKEN_AUDIENCE], expirationSeconds: AGENT_TOKEN_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Node', name: node, uid } },
    },
  });
  const token = res.body?.status?.token;
  const expires = Date.parse(res.body?.status?.expirationTimestamp ?? '');
  if (token === undefined || Number.isNaN(expires)) throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'POST', path, status: res.status, reason: 'the TokenRequest answer holds no token or no expirationTimestamp' });
  await writeAtomic(file, token, 0o600);
  return { issuedAtMs: asked, expiresAtMs: expires };
}

export function kubeRestFor(kubeconfig: string): KubeRest {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return new KubeRest(kc);
}

/** Keeps the node agent's token file fresh until `stop()` (kubelet-main). */
export function keepAgentTokenFresh(o: { kubeconfig: string; node: string; file: string; log: Logger }): { stop(): void } {
  const refresher = new TokenRefresher({ log: o.log });
  let rest: KubeRest | undefined;
  let stopped = false;
  // The first request may come before `up` wrote the kubeconfig or made the ServiceAccount: tried again
  // until both are there.
  const first = (): void => {
    if (stopped) return;
    const retry = (): void => void setTimeout(first, 2000).unref();
    try {
      rest ??= kubeRestFor(o.kubeconfig);
    } catch {
      retry();
      return;
    }
    const r = rest;
    refresher.start(o.file, () => writeAgentToken(r, o.node, o.file)).catch(retry);
  };
  first();
  return {
    stop: () => {
      stopped = true;
      refresher.stop();
    },
  };
}
