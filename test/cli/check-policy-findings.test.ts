// Pins the AuthorizationPolicy analyzer of `weft check`: it reads the status weft-control wrote.
// Accepted=False/NoWaypoint is WEFT-C011 (fail closed, traffic denied) with the waypoint to deploy: the one
// the Service's weft.dev/use-waypoint label names, else one enrolling the namespace; any other
// Accepted=False is C010; FullySupported=False is the warning C012. An accepted policy is no finding.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyzerContext } from '../../cli/check/analyze.js';
import { policyFindings } from '../../cli/check/policy-findings.js';
import { tempLab, writeYaml } from './cluster-fixture.js';

const policy = (name: string, spec: unknown): unknown => ({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' }, spec });
const status = (name: string, conditions: unknown[]): unknown => ({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' }, status: { conditions } });
const l7 = { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] };

describe('weft check: authorization policies', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab('t2');
  });
  afterEach(() => lab.cleanup());

  const put = async (name: string, spec: unknown, conditions: unknown[]): Promise<void> => {
    await writeYaml(join(lab.cluster, 'manifests', `AuthorizationPolicy.demo.${name}.yaml`), policy(name, spec));
    await writeYaml(join(lab.cluster, 'status', `AuthorizationPolicy.demo.${name}.yaml`), status(name, conditions));
  };
  const run = () => policyFindings(analyzerContext(lab.client, { meshNamespace: 'weft-system', now: new Date(), caExpirySeconds: 0, certExpirySeconds: undefined }));

  it('an L7 policy without a waypoint is WEFT-C011, fixed by deploying the waypoint its Service is labelled with', async () => {
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.web.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo', labels: { 'weft.dev/use-waypoint': 'wp' } }, spec: { ports: [{ port: 80 }] } });
    const why = 'L7 rules (methods/paths) need a waypoint, and none serves Service demo/web (weft.dev/use-waypoint=wp names no Gateway of class weft-waypoint in namespace demo); enforced as DENY for the traffic it selects (fail closed)';
    await put('no-posts', { ...l7, targetRefs: [{ group: '', kind: 'Service', name: 'web' }] }, [{ type: 'Accepted', status: 'False', reason: 'NoWaypoint', message: why }]);
    await put('ns-wide', l7, [{ type: 'Accepted', status: 'False', reason: 'NoWaypoint', message: 'L7 rules need a waypoint, and none serves the workloads it selects in demo' }]);
    await put('fine', { action: 'ALLOW', rules: [{}] }, [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Enforced by the node agents' }]);
    const a = await run();
    expect(a.examined).toBe('3 policies');
    const byName = Object.fromEntries(a.findings.map((f) => [f.object, f]));
    expect(byName['AuthorizationPolicy demo/no-posts']).toMatchObject({ code: 'WEFT-C011', severity: 'error', message: `fail closed, traffic denied: ${why}` });
    expect(byName['AuthorizationPolicy demo/no-posts']?.fix).toMatch(/^Deploy the waypoint it is labelled with: `weft waypoint apply -n demo --name wp --wait --lab t2`; or remove its L7 fields/);
    expect(byName['AuthorizationPolicy demo/ns-wide']?.fix).toContain('`weft waypoint apply -n demo --enroll-namespace --wait --lab t2`');
    expect(a.findings).toHaveLength(2);
  });

  it('another Accepted=False is WEFT-C010; FullySupported=False the warning WEFT-C012', async () => {
    await put('missing', { action: 'ALLOW', targetRefs: [{ group: '', kind: 'Service', name: 'nope' }], rules: [{}] }, [{ type: 'Accepted', status: 'False', reason: 'TargetNotFound', message: 'not found: Service demo/nope' }]);
    await put('partial', { action: 'DENY', rules: [{}] }, [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
      { type: 'FullySupported', status: 'False', reason: 'UnsupportedValue', message: 'when conditions are not supported; enforced as DENY for every request' },
    ]);
    const { findings } = await run();
    expect(findings).toEqual([
      { code: 'WEFT-C010', severity: 'error', object: 'AuthorizationPolicy demo/missing', message: 'not accepted: TargetNotFound: not found: Service demo/nope', fix: expect.stringContaining('`sudo weft lab apply --lab t2 -f <file>`') as string },
      { code: 'WEFT-C012', severity: 'warning', object: 'AuthorizationPolicy demo/partial', message: 'when conditions are not supported; enforced as DENY for every request', fix: expect.stringContaining('Remove or replace') as string },
    ]);
  });
});
