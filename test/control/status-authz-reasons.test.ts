// Pins: AuthorizationPolicy status says whether the policy is enforced — Accepted, TargetNotFound, Invalid
// (wrong target kind), and NoWaypoint for L7 rules (methods/paths) on targets without a waypoint, which
// are enforced as DENY (fail closed) — and that invalid policies are marked as not enforced.
import { describe, expect, it } from 'vitest';
import { asKind, validateObject } from '../../control/sources/schemas.js';
import { validatedState } from '../support/validated-state.js';
import { authorizationPolicyStatus, invalidPolicyStatus } from '../../control/status/authz.js';

const state = validatedState;

const s = state([
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'l7', labels: { 'weft.dev/use-waypoint': 'wp' } } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', labels: { 'weft.dev/use-waypoint': 'wp' } }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'shop' }, spec: { ports: [{ port: 5432 }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'shop' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'l7' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
]);

function policy(spec: Record<string, unknown>, namespace = 'shop') {
  const v = validateObject({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace, generation: 4 }, spec });
  if (!v.ok) throw new Error(v.reason);
  return asKind(v.object, 'AuthorizationPolicy')!;
}
const l7 = [{ to: [{ operation: { methods: ['GET'] } }] }];
const l4 = [{ from: [{ source: { principals: ['ns/shop/sa/web'] } }], to: [{ operation: { ports: ['80'] } }] }];
const accepted = (spec: Record<string, unknown>, ns?: string) => authorizationPolicyStatus(policy(spec, ns), s).conditions?.[0];

describe('AuthorizationPolicy status reasons', () => {
  it('accepts L4 policies and L7 policies that reach a waypoint', () => {
    expect(accepted({ targetRefs: [{ kind: 'Service', group: '', name: 'db' }], rules: l4 })).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 4 });
    expect(accepted({ targetRefs: [{ kind: 'Service', group: '', name: 'web' }], rules: l7 })).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(accepted({ targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'wp' }], rules: l7 })?.reason).toBe('Accepted');
    expect(accepted({ selector: { matchLabels: { app: 'x' } }, rules: l7 }, 'l7')?.reason).toBe('Accepted');
  });

  it('says when L7 rules have no waypoint and are enforced as deny', () => {
    const c = accepted({ targetRefs: [{ kind: 'Service', group: '', name: 'db' }], rules: l7 });
    expect(c).toMatchObject({ status: 'False', reason: 'NoWaypoint' });
    expect(c?.message).toContain('DENY');
    expect(accepted({ selector: { matchLabels: { app: 'x' } }, rules: l7 })?.reason).toBe('NoWaypoint');
  });

  it('names missing and unsupported targets', () => {
    expect(accepted({ targetRefs: [{ kind: 'Service', group: '', name: 'nope' }] })?.reason).toBe('TargetNotFound');
    expect(accepted({ targetRefs: [{ kind: 'ConfigMap', group: '', name: 'x' }] })?.reason).toBe('Invalid');
    expect(invalidPolicyStatus('spec.action: Invalid option', undefined, 1).conditions?.[0]).toMatchObject({ status: 'False', reason: 'Invalid', observedGeneration: 1 });
  });
});
