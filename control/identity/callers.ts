import type { ClusterSource } from '../sources/source.js';
import { asKind, listOf } from '../sources/schemas.js';
import type { CallerIdentity } from './tokens.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';

// Who a verified caller is, in the terms IdentityService and DiscoveryService authorize by: the node
// agent of one node, the waypoint of one Gateway, or anyone else (refused). Reads the cluster source,
// so a token alone never grants more than the cluster state backs.

export const NODE_AGENT_SERVICE_ACCOUNT = 'weft-node-agent';

export type CallerRole =
  | { role: 'node-agent'; node: string }
  | { role: 'waypoint'; namespace: string; gateway: string }
  | { role: 'other'; reason: string };

export function describeCaller(c: CallerIdentity): string {
  return `system:serviceaccount:${c.namespace}:${c.serviceAccount}${c.podName ? ` (pod ${c.podName})` : ''}`;
}

/**
 * Node agent: the `weft-node-agent` service account of the control namespace, its token bound to a pod;
 * the node comes from the token's node claim or else from that pod's `spec.nodeName`.
 * Waypoint: the service account of a `weft-waypoint` Gateway's generated Deployment (the Deployment
 * owned by the Gateway that runs as it), or, before that Deployment is seen, the Gateway's own name.
 */
export function roleOf(caller: CallerIdentity, source: ClusterSource, controlNamespace: string): CallerRole {
  if (caller.serviceAccount === NODE_AGENT_SERVICE_ACCOUNT && caller.namespace === controlNamespace) {
    if (caller.nodeName) return { role: 'node-agent', node: caller.nodeName };
    if (caller.podName) {
      const pod = asKind(source.get({ kind: 'Pod', namespace: caller.namespace, name: caller.podName }), 'Pod');
      if (!pod) return { role: 'other', reason: `the token's pod ${caller.namespace}/${caller.podName} does not exist` };
      if (caller.podUid && pod.metadata.uid && pod.metadata.uid !== caller.podUid) {
        return { role: 'other', reason: `the token's pod ${caller.podName} was replaced (uid differs)` };
      }
      if (pod.spec?.nodeName) return { role: 'node-agent', node: pod.spec.nodeName };
      return { role: 'other', reason: `the token's pod ${caller.podName} is not scheduled on a node` };
    }
    return { role: 'other', reason: 'a node agent token must be bound to a pod or node' };
  }
  const gateway = waypointGatewayFor(caller, source);
  if (gateway) return { role: 'waypoint', namespace: caller.namespace, gateway };
  return { role: 'other', reason: 'the caller is neither a node agent nor a waypoint' };
}

function waypointGatewayFor(caller: CallerIdentity, source: ClusterSource): string | undefined {
  const gateways = listOf(source, 'Gateway').filter(
    (g) => g.metadata.namespace === caller.namespace && g.spec.gatewayClassName === WAYPOINT_CLASS,
  );
  if (gateways.length === 0) return undefined;
  for (const d of listOf(source, 'Deployment')) {
    if (d.metadata.namespace !== caller.namespace) continue;
    if ((d.spec.template.spec.serviceAccountName ?? 'default') !== caller.serviceAccount) continue;
    const owner = d.metadata.ownerReferences?.find((o) => o.kind === 'Gateway');
    if (owner && gateways.some((g) => g.metadata.name === owner.name)) return owner.name;
  }
  return gateways.find((g) => g.metadata.name === caller.serviceAccount)?.metadata.name;
}

/** Service accounts (`ns/sa`) of the pods scheduled on each node, rebuilt when Pods change. */
export class PodServiceAccountIndex {
  private byNode: Map<string, Set<string>> | undefined;

  constructor(private readonly source: ClusterSource) {
    source.on('change', (changes) => {
      if (changes.some((c) => c.object.kind === 'Pod')) this.byNode = undefined;
    });
  }

  hasServiceAccountOnNode(node: string, namespace: string, serviceAccount: string): boolean {
    if (!this.byNode) this.byNode = this.build();
    return this.byNode.get(node)?.has(`${namespace}/${serviceAccount}`) ?? false;
  }

  private build(): Map<string, Set<string>> {
    const m = new Map<string, Set<string>>();
    for (const p of listOf(this.source, 'Pod')) {
      const node = p.spec?.nodeName;
      if (!node || !p.metadata.namespace) continue;
      let set = m.get(node);
      if (!set) m.set(node, (set = new Set()));
      set.add(`${p.metadata.namespace}/${p.spec?.serviceAccountName ?? 'default'}`);
    }
    return m;
  }
}
