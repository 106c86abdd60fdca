import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeRest } from '../../control/sources/kube-rest.js';
import { WeftError } from '../../lib/errors/index.js';
import { logTail } from './components.js';

interface NodeList {
  items?: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/**
 * Waits until each lab node's kubelet registered its Node and reports it Ready, and the controller
 * manager made the `default` namespace's ServiceAccount (without it the API server refuses every pod
 * there): what `up` promises before it returns, as kind does. A node that is not Ready in time is
 * ERR_WEFT_LAB_KUBE_START_FAILED naming its kubelet and log file, whose end says why
 * (ERR_WEFT_LAB_KUBELET_REFUSED for credentials the API server refused).
 */
export async function waitNodesReady(o: { kubeconfig: string; nodes: readonly string[]; logs: string; timeoutMs?: number }): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const rest = new KubeRest(kc);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let pending = [...o.nodes];
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const res = await rest.expect<NodeList>('GET', '/api/v1/nodes');
      const ready = new Set(
        (res.body?.items ?? []).filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name),
      );
      pending = o.nodes.filter((n) => !ready.has(n));
      if (pending.length === 0) {
        const sa = await rest.request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
        if (sa.status === 200) return;
        last = `the default ServiceAccount is not there yet (${sa.status})`;
      } else last = `not Ready yet: ${pending.join(', ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  if (pending.length === 0) {
    const log = join(o.logs, 'kube-controller-manager.log');
    throw new WeftError('ERR_WEFT_LAB_KUBE_START_FAILED', { component: 'kube-controller-manager', reason: last, log, tail: logTail(log) });
  }
  const node = pending[0];
  const log = join(o.logs, `kubelet-${node}.log`);
  throw new WeftError('ERR_WEFT_LAB_KUBE_START_FAILED', {
    component: `kubelet-${node}`,
    reason: `its Node was not Ready in the API server within ${timeoutMs} ms (${last})`,
    log,
    tail: logTail(log),
  });
}
