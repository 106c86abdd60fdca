// Pins the AuthorizationPolicy analyzer of `weft check` on a real API server: it reads the status
// weft-control wrote. Accepted=False/NoWaypoint is WEFT-C011 (fail closed, traffic denied) with the
// waypoint to deploy: the one the Service's weft.dev/use-waypoint label names, else one enrolling the
// namespace; any other Accepted=False is C010; FullySupported=False is the warning C012. An accepted
// policy is no finding. How a fix names a lab: check-fix-commands.test.ts.
import { describe, expect, it } from 'vitest';
import { analyzerContext } from '../../../cli/check/analyze.js';
import { policyFindings } from '../../../cli/check/policy-findings.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import type { KubeServer } from '../../support/kube-server.js';

const T = '2026-01-01T00:00:00Z';
const l7 = { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] };
const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: T });

export function describePolicyFindings(kube: () => KubeServer): void {
  describe('weft check: authorization policies, on a real API server', () => {
    const put = (k: KubeServer, name: string, spec: unknown, conditions: unknown[]) =>
      k.put({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' }, spec, status: { conditions } });
    const run = (k: KubeServer) => policyFindings(analyzerContext(new KubeClusterClient(k.kc), { meshNamespace: 'weft-system', now: new Date(), caExpirySeconds: 0, certExpirySeconds: undefined }));

    it('an L7 policy without a waypoint is WEFT-C011, fixed by deploying the waypoint its Service is labelled with', async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo', labels: { 'weft.dev/use-waypoint': 'wp' } }, spec: { ports: [{ port: 80 }] } });
      const why = 'L7 rules (methods/paths) need a waypoint, and none serves Service demo/web (weft.dev/use-waypoint=wp names no Gateway of class weft-waypoint in namespace demo); enforced as DENY for the traffic it selects (fail closed)';
      await put(k, 'no-posts', { ...l7, targetRefs: [{ group: '', kind: 'Service', name: 'web' }] }, [cond('Accepted', 'False', 'NoWaypoint', why)]);
      await put(k, 'ns-wide', l7, [cond('Accepted', 'False', 'NoWaypoint', 'L7 rules need a waypoint, and none serves the workloads it selects in demo')]);
      await put(k, 'fine', { action: 'ALLOW', rules: [{}] }, [cond('Accepted', 'True', 'Accepted', 'Enforced by the node agents')]);
      const a = await run(k);
      expect(a.examined).toBe('3 policies');
      const byName = Object.fromEntries(a.findings.map((f) => [f.object, f]));
      expect(byName['AuthorizationPolicy demo/no-posts']).toMatchObject({ code: 'WEFT-C011', severity: 'error', message: `fail closed, traffic denied: ${why}` });
      expect(byName['AuthorizationPolicy demo/no-posts']?.fix).toMatch(/^Deploy the waypoint it is labelled with: `weft waypoint apply -n demo --name wp --wait`; or remove its L7 fields/);
      expect(byName['AuthorizationPolicy demo/ns-wide']?.fix).toContain('`weft waypoint apply -n demo --enroll-namespace --wait`');
      expect(a.findings).toHaveLength(2);
    });

    it('another Accepted=False is WEFT-C010; FullySupported=False the warning WEFT-C012', async () => {
      const k = kube();
      await put(k, 'missing', { action: 'ALLOW', targetRefs: [{ group: '', kind: 'Service', name: 'nope' }], rules: [{}] }, [cond('Accepted', 'False', 'TargetNotFound', 'not found: Service demo/nope')]);
      await put(k, 'partial', { action: 'DENY', rules: [{}] }, [
        cond('Accepted', 'True', 'Accepted', ''),
        cond('FullySupported', 'False', 'UnsupportedValue', 'when conditions are not supported; enforced as DENY for every request'),
      ]);
      const { findings } = await run(k);
      expect(findings).toEqual([
        { code: 'WEFT-C010', severity: 'error', object: 'AuthorizationPolicy demo/missing', message: 'not accepted: TargetNotFound: not found: Service demo/nope', fix: expect.stringContaining('`kubectl -n demo edit authorizationpolicy missing`') as string },
        { code: 'WEFT-C012', severity: 'warning', object: 'AuthorizationPolicy demo/partial', message: 'when conditions are not supported; enforced as DENY for every request', fix: expect.stringContaining('Remove or replace') as string },
      ]);
    });
  });
}
