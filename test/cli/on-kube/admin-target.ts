// Pins how `weft get` and `weft explain` find a node agent on a real API server: the CLI cannot reach a
// pod's loopback there, so it names the agent pod of the node and the port-forward to run
// (ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED); a node without an agent pod is ERR_WEFT_CLI_NOT_FOUND. In a lab
// (a client whose target is a lab, its own API server), a node that does not exist or a waypoint with no
// pod is ERR_WEFT_CLI_NOT_FOUND naming it, not a socket error. The flags: cli-admin-target.test.ts.
import { describe, expect, it } from 'vitest';
import { findEndpoint } from '../../../cli/admin/admin-target.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { WeftError } from '../../../lib/errors/index.js';
import type { KubeServer } from '../../support/kube-server.js';
import { MESH_NS, seedHealthyInstall } from '../cluster-fixture.js';

export function describeAdminTarget(kube: () => KubeServer): void {
  describe('weft get/explain: which component to ask, on a real API server', () => {
    it('names the node agent pod and the port-forward to run', async () => {
      const k = kube();
      await seedHealthyInstall(k, { nodes: ['node-a', 'node-b'] });
      const client = new KubeClusterClient(k.kc);
      const err = await findEndpoint(client, { kind: 'agent', node: 'node-b' }, MESH_NS).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_WEFT_CLI_ADMIN_FORWARD_NEEDED' });
      expect((err as WeftError).hint).toContain(`\`kubectl port-forward -n ${MESH_NS} pod/weft-node-agent-node-b 15000:15000\``);
      await expect(findEndpoint(client, { kind: 'agent', node: 'node-z' }, MESH_NS)).rejects.toMatchObject({ code: 'ERR_WEFT_CLI_NOT_FOUND' });
    });

    it('in a lab, a missing node or a waypoint without pods is named as not found', async () => {
      const client = new KubeClusterClient(kube().kc, { target: { kind: 'lab', name: 'z', dir: '/var/run/weft-lab/z' } });
      await expect(findEndpoint(client, { kind: 'agent', node: 'n9' }, MESH_NS)).rejects.toMatchObject({ code: 'ERR_WEFT_CLI_NOT_FOUND', message: 'node n9 of lab z not found' });
      await expect(findEndpoint(client, { kind: 'waypoint', namespace: 'ex', name: 'w' }, MESH_NS)).rejects.toMatchObject({ code: 'ERR_WEFT_CLI_NOT_FOUND', message: 'pod of waypoint ex/w not found' });
    });
  });
}
