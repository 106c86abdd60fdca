// Pins the route analyzer of `weft check` on a real API server (the pinned Gateway API CRDs validate the
// routes and their status): a parentRef naming a Service or Gateway that does not exist is WEFT-C003 with
// the name it most likely meant (a Gateway parentRef gets no status from anyone, so only this finds it);
// the status weft-control wrote, Accepted=False (C001), ResolvedRefs=False (C002, once per route) and
// PartiallyInvalid=True (C004), each naming the route, the reason and a command to fix it. Another
// controller's parent status is not weft's to report. How a fix names a lab: check-fix-commands.test.ts.
import { describe, expect, it } from 'vitest';
import { analyzerContext } from '../../../cli/check/analyze.js';
import { routeFindings } from '../../../cli/check/route-findings.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';

const T = '2026-01-01T00:00:00Z';
const route = (name: string, parentRefs: unknown[], kind = 'HTTPRoute') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind,
  metadata: { name, namespace: 'demo' },
  spec: { parentRefs, rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
});
const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: T });
const parentStatus = (parentRef: unknown, conditions: unknown[], controllerName = 'weft.dev/waypoint-controller') => ({ parentRef, controllerName, conditions });

export function describeRouteFindings(kube: () => KubeServer): void {
  describe('weft check: routes, on a real API server', () => {
    const setup = async (): Promise<{ k: KubeServer; run: () => ReturnType<typeof routeFindings> }> => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { ports: [{ port: 80 }] } });
      await k.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
      const client = new KubeClusterClient(k.kc);
      return { k, run: () => routeFindings(analyzerContext(client, { meshNamespace: 'weft-system', now: new Date(), caExpirySeconds: 0, certExpirySeconds: undefined })) };
    };

    it('a misspelled Service or Gateway parentRef is WEFT-C003 with the name it meant', async () => {
      const { k, run } = await setup();
      await k.put(route('typo', [{ group: '', kind: 'Service', name: 'webb', port: 80 }]));
      await k.put(route('gw', [{ name: 'waypiont' }], 'GRPCRoute'));
      await k.put(route('good', [{ group: '', kind: 'Service', name: 'web' }]));
      const a = await run();
      expect(a.examined).toBe('3 route(s)');
      expect(a.findings).toEqual([
        expect.objectContaining({ code: 'WEFT-C003', object: 'HTTPRoute demo/typo', message: 'parentRef Service demo/webb does not exist (did you mean web?)' }),
        {
          code: 'WEFT-C003',
          severity: 'error',
          object: 'GRPCRoute demo/gw',
          message: 'parentRef Gateway demo/waypiont does not exist (did you mean waypoint?); no controller answers for it, so the route has no status and no effect',
          fix: 'Correct spec.parentRefs to waypoint; edit it: `kubectl -n demo edit grpcroute gw`',
        },
      ]);
    });

    it("the status weft-control wrote: Accepted=False is C001, ResolvedRefs=False C002 once, PartiallyInvalid C004; other controllers' entries are skipped", async () => {
      const { k, run } = await setup();
      const web = { group: '', kind: 'Service', name: 'web' };
      const other = { group: '', kind: 'Service', name: 'web2' };
      await k.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web2', namespace: 'demo' }, spec: { ports: [{ port: 80 }] } });
      await k.put({
        ...route('r', [web, other]),
        status: {
          parents: [
            parentStatus(web, [
              cond('Accepted', 'False', 'NoMatchingParent', 'Service demo/web has no waypoint (neither it nor namespace demo has the label weft.dev/use-waypoint); weft applies routes at waypoints only'),
              cond('ResolvedRefs', 'False', 'BackendNotFound', 'Service demo/api not found'),
              cond('PartiallyInvalid', 'True', 'UnsupportedValue', 'ignored: retry.weft.dev/attempts "x"'),
            ]),
            parentStatus(other, [cond('Accepted', 'True', 'Accepted', ''), cond('ResolvedRefs', 'False', 'BackendNotFound', 'Service demo/api not found')]),
            parentStatus(web, [cond('Accepted', 'False', 'NotAllowed', 'not mine')], 'example.com/other'),
          ],
        },
      });
      const { findings } = await run();
      expect(findings.map((f) => f.code)).toEqual(['WEFT-C001', 'WEFT-C002', 'WEFT-C004']);
      expect(findings[0]).toMatchObject({ object: 'HTTPRoute demo/r', message: expect.stringMatching(/^not accepted for parent Service demo\/web: NoMatchingParent: Service demo\/web has no waypoint/) as string });
      // No waypoint for the Service: the fix deploys one, as a command for this cluster.
      expect(findings[0]?.fix).toContain('`weft waypoint apply -n demo --enroll-namespace --wait`');
      expect(findings[1]).toMatchObject({ severity: 'error', message: 'references not resolved: BackendNotFound: Service demo/api not found' });
      expect(findings[2]).toMatchObject({ severity: 'warning', message: 'partly ignored: UnsupportedValue: ignored: retry.weft.dev/attempts "x"' });
    });
  });
}
