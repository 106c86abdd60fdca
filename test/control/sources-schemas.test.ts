// Pins: the manifest schemas accept the Gateway API v1 field names exactly as upstream spells them
// (parentRefs/sectionName/port, matches path/headers/queryParams/method, filters, backendRefs weight,
// timeouts request/backendRequest, retry codes/attempts/backoff, GRPCRoute method service/method), pass
// unknown fields through — also AuthorizationPolicy match fields weft does not implement, which the compiler
// fails closed (refusing the policy would leave a DENY unenforced) — and still check the fields weft reads.
import { describe, expect, it } from 'vitest';
import { asKind, validateObject } from '../../control/sources/schemas.js';

const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80, sectionName: 'http' }],
    hostnames: ['web.shop'],
    rules: [
      {
        name: 'main',
        matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ type: 'Exact', name: 'x-user', value: 'a' }], queryParams: [{ name: 'q', value: '1' }], method: 'GET' }],
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
          { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
        ],
        backendRefs: [{ name: 'web-v1', port: 80, weight: 90 }, { name: 'web-v2', port: 80, weight: 10 }],
        timeouts: { request: '10s', backendRequest: '2s' },
        retry: { codes: [503], attempts: 3, backoff: '100ms' },
        sessionPersistence: { sessionName: 'x' }, // not read by weft: passed through
      },
    ],
  },
};

describe('manifest schemas', () => {
  it('accepts an HTTPRoute with the upstream field names and keeps unknown fields', () => {
    const v = validateObject(route);
    expect(v.ok).toBe(true);
    const r = asKind(v.ok ? v.object : undefined, 'HTTPRoute');
    expect(r?.spec.rules?.[0]?.retry).toEqual({ codes: [503], attempts: 3, backoff: '100ms' });
    expect((r?.spec.rules?.[0] as Record<string, unknown>).sessionPersistence).toEqual({ sessionName: 'x' });
  });

  it('rejects wrong values in the fields weft uses', () => {
    const bad = (patch: Record<string, unknown>) => validateObject({ ...route, spec: { ...route.spec, rules: [{ ...route.spec.rules[0], ...patch }] } });
    expect(bad({ timeouts: { request: '10 seconds' } }).ok).toBe(false);
    expect(bad({ retry: { codes: [200] } }).ok).toBe(false);
    expect(bad({ backendRefs: [{ name: 'x', port: 0 }] }).ok).toBe(false);
    expect(bad({ matches: [{ method: 'FETCH' }] }).ok).toBe(false);
  });

  it('accepts a GRPCRoute method match', () => {
    const v = validateObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name: 'g', namespace: 'shop' },
      spec: { parentRefs: [{ kind: 'Service', group: '', name: 'api' }], rules: [{ matches: [{ method: { type: 'Exact', service: 'pkg.Svc', method: 'Get' } }], backendRefs: [{ name: 'api', port: 50051 }] }] },
    });
    expect(v.ok).toBe(true);
  });

  it('passes AuthorizationPolicy fields weft does not implement through (the compiler fails them closed), but checks the ones it does', () => {
    const ap = (rule: Record<string, unknown>) =>
      validateObject({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'shop' }, spec: { action: 'ALLOW', rules: [rule] } });
    expect(ap({ from: [{ source: { principals: ['ns/a/sa/b'], namespaces: ['a'], ipBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { ports: ['80', 443], methods: ['GET'], paths: ['/x'] } }] }).ok).toBe(true);
    // Refusing these would leave a DENY unenforced (test/control/compile-authz-unsupported.test.ts).
    expect(ap({ to: [{ operation: { ports: ['80'] } }], when: [{ key: 'request.headers[x]', values: ['y'] }] }).ok).toBe(true);
    expect(ap({ from: [{ source: { requestPrincipals: ['*'] } }] }).ok).toBe(true);
    expect(ap({ to: [{ operation: { hosts: ['a'] } }] }).ok).toBe(true);
    const badPort = ap({ to: [{ operation: { ports: ['http'] } }] });
    expect(badPort.ok).toBe(false);
    expect(badPort.ok ? '' : badPort.reason).toContain('ports');
    expect(ap({ from: [{ source: { principals: 'ns/a/sa/b' } }] }).ok).toBe(false);
  });

  it('requires a namespace on namespaced kinds and drops it on cluster-scoped ones', () => {
    const pod = validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } });
    expect(pod.ok).toBe(false);
    const ns = validateObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'x' } });
    expect(ns.ok && ns.object.metadata.namespace).toBe(undefined);
  });
});
