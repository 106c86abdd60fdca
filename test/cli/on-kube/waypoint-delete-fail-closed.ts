// Pins, on a real API server, that `weft waypoint delete` warns before it deletes a waypoint that
// AuthorizationPolicies with L7 rules need: it names each (WEFT-C011, with the condition weft-control
// would then write), refuses with ERR_WEFT_CLI_WAYPOINT_NEEDED carrying the --force command, and deletes
// nothing; with --force it deletes (in the foreground: the Gateway stays marked, as no garbage collector
// runs here) and still warns. L4-only policies, and L7 ones served by another waypoint, do not stop it.
import { describe, expect, it } from 'vitest';
import { waypointDeleteCommand } from '../../../cli/commands/waypoint.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { KubeServer } from '../../support/kube-server.js';
import { capture } from '../cluster-fixture.js';

const gateway = (name: string) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
const service = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'demo', labels }, spec: { ports: [{ port: 80 }] } });
const policy = (name: string, target: string, rules: unknown[]) => ({
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'demo' },
  spec: { action: 'DENY', targetRefs: [{ group: '', kind: 'Service', name: target }], rules },
});
const L7 = [{ to: [{ operation: { methods: ['POST'], paths: ['/admin*'] } }] }];
const L4 = [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/client'] } }] }];

export function describeWaypointDeleteFailClosed(kube: () => KubeServer): void {
  describe('weft waypoint delete: policies that would fail closed, on a real API server', () => {
    const setup = async (apiRules: unknown[] = L7): Promise<{ k: KubeServer; client: KubeClusterClient }> => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'weft.dev/use-waypoint': 'waypoint' } } });
      await Promise.all([
        k.put(gateway('waypoint')),
        k.put(gateway('other')),
        k.put(service('web')),
        k.put(service('api', { 'weft.dev/use-waypoint': 'other' })),
        k.put(policy('no-admin-posts', 'web', L7)),
        k.put(policy('l4-only', 'web', L4)),
        k.put(policy('api-posts', 'api', apiRules)),
      ]);
      return { k, client: new KubeClusterClient(k.kc) };
    };
    const deleting = async (k: KubeServer, name: string) => (await k.get('Gateway', 'demo', name))?.metadata.deletionTimestamp !== undefined;

    it('refuses, naming the policy and the --force command, and deletes nothing', async () => {
      const { k, client } = await setup();
      const c = capture();
      const err = await waypointDeleteCommand(client, { namespace: 'demo', name: 'waypoint', force: false, output: 'table' }, c.printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NEEDED')).toBe(true);
      expect((err as Error).message).toContain('AuthorizationPolicy demo/no-admin-posts');
      expect((err as Error).message).toContain('to delete it anyway: weft waypoint delete -n demo --name waypoint --force');
      expect(c.err).toEqual([expect.stringMatching(/^warning WEFT-C011 PolicyFailClosed: AuthorizationPolicy demo\/no-admin-posts would be enforced as DENY for all the traffic it selects: L7 rules .* none serves Service demo\/web/)]);
      expect(await k.get('Gateway', 'demo', 'waypoint')).toBeDefined();
      expect(await deleting(k, 'waypoint')).toBe(false);
    });

    it('with --force it deletes, warns the same, and lists the policy in -o json', async () => {
      const { k, client } = await setup();
      const c = capture();
      expect(await waypointDeleteCommand(client, { namespace: 'demo', name: 'waypoint', force: true, output: 'json' }, c.printer)).toBe(0);
      expect(c.err).toHaveLength(1);
      expect(JSON.parse(c.out.join('\n'))).toEqual({ namespace: 'demo', name: 'waypoint', deleted: true, unenrolled: true, failClosed: ['demo/no-admin-posts'] });
      expect(await deleting(k, 'waypoint')).toBe(true);
    });

    it('a waypoint no L7 policy depends on alone is deleted without a warning', async () => {
      // With api-posts L4-only, no L7 rule depends on `other` (its L4 rules the node agents enforce anyway).
      const { k, client } = await setup(L4);
      const c = capture();
      expect(await waypointDeleteCommand(client, { namespace: 'demo', name: 'other', force: false, output: 'table' }, c.printer)).toBe(0);
      expect(c.err).toEqual([]);
      expect(c.out).toEqual(['waypoint demo/other deleted']);
      expect(await deleting(k, 'other')).toBe(true);
    });
  });
}
