// Pins the route analyzer of `weft check`: a parentRef naming a Service or Gateway that does not exist is
// WEFT-C003 with the name it most likely meant (a Gateway parentRef gets no status from anyone, so only
// this finds it); the status weft-control wrote, Accepted=False (C001), ResolvedRefs=False (C002, once per
// route) and PartiallyInvalid=True (C004), each naming the route, the reason and a command to fix it.
// Another controller's parent status is not weft's to report.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routeFindings } from '../../cli/check/route-findings.js';
import { analyzerContext } from '../../cli/check/analyze.js';
import { tempLab, writeYaml } from './cluster-fixture.js';

const svc = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'demo' }, spec: { ports: [{ port: 80 }] } });
const route = (name: string, parentRefs: unknown[], kind = 'HTTPRoute'): unknown => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind,
  metadata: { name, namespace: 'demo' },
  spec: { parentRefs, rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
});
const parentStatus = (parentRef: unknown, conditions: unknown[], controllerName = 'weft.dev/waypoint-controller'): unknown => ({ parentRef, controllerName, conditions });

describe('weft check: routes', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab('t1');
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.web.yaml'), svc('web'));
    await writeYaml(join(lab.cluster, 'manifests', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [] } });
  });
  afterEach(() => lab.cleanup());

  const run = () => routeFindings(analyzerContext(lab.client, { meshNamespace: 'weft-system', now: new Date(), caExpirySeconds: 0, certExpirySeconds: undefined }));

  it('a misspelled Service or Gateway parentRef is WEFT-C003 with the name it meant', async () => {
    await writeYaml(join(lab.cluster, 'manifests', 'HTTPRoute.demo.typo.yaml'), route('typo', [{ group: '', kind: 'Service', name: 'webb', port: 80 }]));
    await writeYaml(join(lab.cluster, 'manifests', 'GRPCRoute.demo.gw.yaml'), route('gw', [{ name: 'waypiont' }], 'GRPCRoute'));
    await writeYaml(join(lab.cluster, 'manifests', 'HTTPRoute.demo.good.yaml'), route('good', [{ group: '', kind: 'Service', name: 'web' }]));
    const a = await run();
    expect(a.examined).toBe('3 route(s)');
    expect(a.findings).toEqual([
      expect.objectContaining({ code: 'WEFT-C003', object: 'HTTPRoute demo/typo', message: 'parentRef Service demo/webb does not exist (did you mean web?)' }),
      {
        code: 'WEFT-C003',
        severity: 'error',
        object: 'GRPCRoute demo/gw',
        message: 'parentRef Gateway demo/waypiont does not exist (did you mean waypoint?); no controller answers for it, so the route has no status and no effect',
        fix: 'Correct spec.parentRefs to waypoint; apply the corrected manifest of GRPCRoute demo/gw: `sudo weft lab apply --lab t1 -f <file>`',
      },
    ]);
  });

  it("the status weft-control wrote: Accepted=False is C001, ResolvedRefs=False C002 once, PartiallyInvalid C004; other controllers' entries are skipped", async () => {
    const web = { group: '', kind: 'Service', name: 'web' };
    const other = { group: '', kind: 'Service', name: 'web', port: 80 };
    await writeYaml(join(lab.cluster, 'manifests', 'HTTPRoute.demo.r.yaml'), route('r', [web, other]));
    await writeYaml(join(lab.cluster, 'status', 'HTTPRoute.demo.r.yaml'), {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'demo' },
      status: {
        parents: [
          parentStatus(web, [
            { type: 'Accepted', status: 'False', reason: 'NoMatchingParent', message: 'Service demo/web has no waypoint (neither it nor namespace demo has the label weft.dev/use-waypoint); weft applies routes at waypoints only' },
            { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'Service demo/api not found' },
            { type: 'PartiallyInvalid', status: 'True', reason: 'UnsupportedValue', message: 'ignored: retry.weft.dev/attempts "x"' },
          ]),
          parentStatus(other, [
            { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
            { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'Service demo/api not found' },
          ]),
          parentStatus(web, [{ type: 'Accepted', status: 'False', reason: 'NotAllowed', message: 'not mine' }], 'example.com/other'),
        ],
      },
    });
    const { findings } = await run();
    expect(findings.map((f) => f.code)).toEqual(['WEFT-C001', 'WEFT-C002', 'WEFT-C004']);
    expect(findings[0]).toMatchObject({ object: 'HTTPRoute demo/r', message: expect.stringMatching(/^not accepted for parent Service demo\/web: NoMatchingParent: Service demo\/web has no waypoint/) as string });
    // No waypoint for the Service: the fix deploys one, as a command for this lab.
    expect(findings[0]?.fix).toContain('`weft waypoint apply -n demo --enroll-namespace --wait --lab t1`');
    expect(findings[1]).toMatchObject({ severity: 'error', message: 'references not resolved: BackendNotFound: Service demo/api not found' });
    expect(findings[2]).toMatchObject({ severity: 'warning', message: 'partly ignored: UnsupportedValue: ignored: retry.weft.dev/attempts "x"' });
  });
});
