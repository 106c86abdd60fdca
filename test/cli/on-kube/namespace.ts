// Pins `weft namespace enable|disable` on a real API server: it sets and removes
// weft.dev/dataplane-mode=ambient with a merge patch (never a read-modify-write that could race a
// concurrent label change), keeps the namespace's other labels, and a missing namespace (a typo) is
// ERR_WEFT_CLI_NOT_FOUND and creates nothing. A lab is such an API server too (its own).
import { describe, expect, it } from 'vitest';
import { namespaceCommand, setNamespaceMode } from '../../../cli/commands/namespace.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { KubeServer } from '../../support/kube-server.js';
import { capture } from '../cluster-fixture.js';

export function describeNamespaceCommand(kube: () => KubeServer): void {
  describe('weft namespace on a real API server', () => {
    const demo = async (k: KubeServer) => k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { team: 'a' } } });
    const labels = async (k: KubeServer) => (await k.get('Namespace', undefined, 'demo'))?.metadata.labels;

    it('enable labels the namespace ambient and keeps other labels; disable removes only that label', async () => {
      const k = kube();
      await demo(k);
      const client = new KubeClusterClient(k.kc);
      const c = capture();
      expect(await namespaceCommand(client, 'enable', 'demo', 'table', c.printer)).toBe(0);
      expect(await labels(k)).toEqual({ team: 'a', 'weft.dev/dataplane-mode': 'ambient', 'kubernetes.io/metadata.name': 'demo' });
      expect(c.out[0]).toContain('weft.dev/dataplane-mode=ambient');
      await setNamespaceMode(client, 'demo', false);
      expect(await labels(k)).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'demo' });
      // Two patches and no update: a merge patch, not a read-modify-write.
      const writes = k.requests().filter((r) => r.path === '/api/v1/namespaces/demo' && !['get', 'list', 'watch'].includes(r.verb));
      expect(writes.map((r) => r.verb)).toEqual(['patch', 'patch']);
    });

    it('a missing namespace (a typo) is ERR_WEFT_CLI_NOT_FOUND and creates nothing', async () => {
      const k = kube();
      await demo(k);
      const err = await setNamespaceMode(new KubeClusterClient(k.kc), 'demoo', true).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_NOT_FOUND')).toBe(true);
      expect(await k.get('Namespace', undefined, 'demoo')).toBeUndefined();
    });

    it('JSON output is the resulting state', async () => {
      const k = kube();
      await demo(k);
      const c = capture();
      await namespaceCommand(new KubeClusterClient(k.kc), 'enable', 'demo', 'json', c.printer);
      expect(JSON.parse(c.out.join('\n'))).toEqual({ namespace: 'demo', dataplaneMode: 'ambient', waypoint: null });
    });
  });
}
