// Pins how `weft check` reports findings, on a real API server: for people a table (CODE, SEVERITY,
// OBJECT, MESSAGE) with the fix under each row and the count on the last line; for scripts `-o json` with
// `findings` beside `checks` and `passed`; exit status 1 when a finding is an error, 0 when there are only
// warnings.
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../../cli/commands/check.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';
import { MESH_NS, capture, seedHealthyInstall } from '../cluster-fixture.js';

const route = (name: string, service: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'demo' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: service }], rules: [{}] },
});

export function describeFindingsOutput(kube: () => KubeServer): void {
  describe('weft check: findings output and exit status, on a real API server', () => {
    const setup = async (): Promise<{ k: KubeServer; client: KubeClusterClient }> => {
      const k = kube();
      await seedHealthyInstall(k);
      await k.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { ports: [{ port: 80 }] } });
      return { k, client: new KubeClusterClient(k.kc) };
    };

    it('an error finding: a table row with its fix below, the count, exit 1', async () => {
      const { k, client } = await setup();
      await k.put(route('r', 'wbe'));
      const c = capture();
      expect(await checkCommand(client, { pre: false, namespace: MESH_NS, output: 'table' }, c.printer)).toBe(1);
      expect(c.out).toContain('✖ routes: 1 error(s) in 1 route(s) (WEFT-C003 ParentRefNotFound)');
      const header = c.out.findIndex((l) => /^CODE\s+SEVERITY\s+OBJECT\s+MESSAGE$/.test(l));
      expect(header).toBeGreaterThan(0);
      expect(c.out[header + 1]).toMatch(/^WEFT-C003\s+error\s+HTTPRoute demo\/r\s+parentRef Service demo\/wbe does not exist \(did you mean web\?\)$/);
      expect(c.out[header + 2]).toMatch(/^\s+fix: Correct spec.parentRefs to web; edit it: `kubectl -n demo edit httproute r`$/);
      expect(c.out.at(-1)).toBe('1 check failed; 1 finding (1 error, docs/check.md)');
    });

    it('-o json carries the findings; only warnings exit 0', async () => {
      const { k, client } = await setup();
      await k.put({
        ...route('r', 'web'),
        status: {
          parents: [
            {
              parentRef: { group: '', kind: 'Service', name: 'web' },
              controllerName: 'weft.dev/waypoint-controller',
              conditions: [{ type: 'PartiallyInvalid', status: 'True', reason: 'UnsupportedValue', message: 'ignored: x', lastTransitionTime: '2026-01-01T00:00:00Z' }],
            },
          ],
        },
      });
      const c = capture();
      expect(await checkCommand(client, { pre: false, namespace: MESH_NS, output: 'json' }, c.printer)).toBe(0);
      const doc = JSON.parse(c.out.join('\n')) as { passed: boolean; checks: { check: string; status: string }[]; findings: { code: string; severity: string; object: string }[] };
      expect(doc.passed).toBe(true);
      expect(doc.findings).toEqual([expect.objectContaining({ code: 'WEFT-C004', severity: 'warning', object: 'HTTPRoute demo/r' })]);
      expect(doc.checks.find((x) => x.check === 'routes')?.status).toBe('warn');
    });
  });
}
