// Pins: route status carries, per parent weft answers for, Accepted and ResolvedRefs with the Gateway API
// reasons — Accepted / NoMatchingParent (missing Service, missing port, no waypoint, a consumer route's
// missing Service) / NotAllowedByListeners (a waypoint Gateway as parent); ResolvedRefs / BackendNotFound /
// InvalidKind / RefNotPermitted — leaves other controllers' entries alone and keeps lastTransitionTime.
import { describe, expect, it } from 'vitest';
import { asKind, validateObject } from '../../control/sources/schemas.js';
import { validatedState } from '../support/validated-state.js';
import { routeStatus, invalidRouteStatus } from '../../control/status/routes.js';
import { WEFT_CONTROLLER_NAME } from '../../control/status/conditions.js';

const state = validatedState;

const base = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', labels: { 'weft.dev/use-waypoint': 'wp' } }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'plain', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'v2', namespace: 'shop' }, spec: { ports: [{ port: 8080 }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'shop' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress', namespace: 'shop' }, spec: { gatewayClassName: 'other', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
];

function route(parentRefs: unknown[], backendRefs: unknown[] = [{ name: 'v2', port: 8080 }], status?: unknown) {
  const v = validateObject({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'shop', generation: 3 },
    spec: { parentRefs, rules: [{ backendRefs }] },
    ...(status === undefined ? {} : { status }),
  });
  if (!v.ok) throw new Error(v.reason);
  return asKind(v.object, 'HTTPRoute')!;
}

const svcRef = (name: string, extra: Record<string, unknown> = {}) => ({ group: '', kind: 'Service', name, ...extra });

describe('route status reasons', () => {
  const s = state(base);
  const cond = (r: ReturnType<typeof routeStatus>, i: number, type: string) => r.parents?.[i]?.conditions?.find((c) => c.type === type);

  it('accepts a Service parent with a waypoint and resolved backends', () => {
    const st = routeStatus(route([svcRef('web', { port: 80 })]), s);
    expect(st.parents).toHaveLength(1);
    expect(st.parents?.[0]?.controllerName).toBe(WEFT_CONTROLLER_NAME);
    expect(cond(st, 0, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 3 });
    expect(cond(st, 0, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  });

  it('names the Accepted=False reasons', () => {
    const st = routeStatus(
      route([svcRef('missing'), svcRef('web', { port: 81 }), svcRef('plain'), svcRef('web', { namespace: 'other' }), { name: 'wp' }, { name: 'ingress' }, { group: 'example.com', kind: 'Mesh', name: 'm' }]),
      s,
    );
    // The non-waypoint Gateway and the unknown kind are other implementations' parents: no entry.
    expect(st.parents?.map((p) => cond({ parents: [p] }, 0, 'Accepted')?.reason)).toEqual([
      'NoMatchingParent',
      'NoMatchingParent',
      'NoMatchingParent',
      'NoMatchingParent',
      'NotAllowedByListeners',
    ]);
    expect(cond(st, 2, 'Accepted')?.message).toContain('no waypoint');
  });

  it('names the ResolvedRefs=False reasons, the most fundamental first', () => {
    const notFound = routeStatus(route([svcRef('web')], [{ name: 'nope', port: 80 }, { name: 'v2', port: 9999 }]), s);
    expect(cond(notFound, 0, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(cond(notFound, 0, 'ResolvedRefs')?.message).toContain('has no port 9999');
    const crossNs = routeStatus(route([svcRef('web')], [{ name: 'v2', namespace: 'other', port: 8080 }]), s);
    expect(cond(crossNs, 0, 'ResolvedRefs')?.reason).toBe('RefNotPermitted');
    const kind = routeStatus(route([svcRef('web')], [{ name: 'v2', port: 8080 }, { group: 'example.com', kind: 'Bucket', name: 'b' }]), s);
    expect(cond(kind, 0, 'ResolvedRefs')?.reason).toBe('InvalidKind');
  });

  it('keeps other controllers entries and carries lastTransitionTime over', () => {
    const first = routeStatus(route([svcRef('web')]), s, new Date('2026-01-01T00:00:00Z'));
    const other = { parentRef: { name: 'gw' }, controllerName: 'example.com/ctrl', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] };
    const again = routeStatus(route([svcRef('web')], undefined, { parents: [other, ...(first.parents ?? [])] }), s, new Date('2026-02-01T00:00:00Z'));
    expect(again.parents?.[0]).toEqual(other);
    expect(again.parents?.[1]?.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('reports invalid routes on the Service parents they name', () => {
    const st = invalidRouteStatus({ metadata: { generation: 2 }, spec: { parentRefs: [svcRef('web'), { name: 'gw' }, 'junk'] } }, 'spec.rules.0: bad', undefined);
    expect(st?.parents).toHaveLength(1);
    expect(st?.parents?.[0]?.conditions?.[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'UnsupportedValue', observedGeneration: 2 });
  });
});
