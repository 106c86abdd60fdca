import { WeftError } from '../../lib/errors/index.js';
import { labPaths, nodeNetns, podNetns } from '../../lab/names.js';
import { readLabInfo } from '../../lab/state.js';
import type { AdminEndpoint } from '../admin/admin-client.js';
import { GATEWAY_NAME_LABEL, NODE_AGENT_SELECTOR, netnsEndpoint } from '../admin/admin-target.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { labRoot } from '../kube/connect.js';
import { Pod } from '../../lib/kube/resources.js';

/**
 * Whom `weft tap` and `weft top` listen to: every node agent (connections) and every waypoint replica
 * (requests) of the cluster, since a request may land on any of them. In a lab each is reached on its
 * own loopback from inside its network namespace (admin-target.ts); on Kubernetes the CLI cannot reach a
 * pod's loopback, so it names the port-forward to run, and `--admin <host:port>` (repeatable) taps the
 * forwarded components instead.
 */
export async function tapEndpoints(client: ClusterClient, meshNamespace: string): Promise<AdminEndpoint[]> {
  const waypoints = await client.list(Pod, { labelSelector: GATEWAY_NAME_LABEL });
  if (client.target.kind === 'lab') {
    const lab = client.target.name;
    const info = await readLabInfo(labPaths(lab, labRoot()), lab);
    const out: AdminEndpoint[] = [];
    if (info.agent) for (const n of info.nodes) out.push(netnsEndpoint(`node agent ${n.name}`, nodeNetns(lab, n.name), `node ${n.name} of lab ${lab}`));
    for (const p of waypoints) {
      const ns = p.metadata.namespace ?? 'default';
      const netns = podNetns(lab, ns, p.metadata.name);
      // A replica still starting (or gone) has no network namespace yet: tapped next time.
      try {
        out.push(netnsEndpoint(`waypoint ${ns}/${p.metadata.labels?.[GATEWAY_NAME_LABEL] ?? '?'} (${p.metadata.name})`, netns, `pod ${ns}/${p.metadata.name}`));
      } catch (err) {
        if (!(err instanceof WeftError && err.code === 'ERR_WEFT_CLI_NOT_FOUND')) throw err;
      }
    }
    if (out.length === 0) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `node agent or waypoint in lab ${lab} (is the mesh installed?)` });
    return out;
  }
  const agents = await client.list(Pod, { namespace: meshNamespace, labelSelector: NODE_AGENT_SELECTOR });
  const first = agents[0] ?? waypoints[0];
  if (first === undefined) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `node agent pod (namespace ${meshNamespace}) or waypoint pod` });
  const ns = first.metadata.namespace ?? meshNamespace;
  throw new WeftError('ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED', { target: `${first === agents[0] ? 'node agent' : 'waypoint'} pod ${ns}/${first.metadata.name}`, namespace: ns, pod: first.metadata.name });
}
