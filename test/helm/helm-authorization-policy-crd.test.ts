// Pins: the AuthorizationPolicy CRD is a valid, structural v1 CRD (printer columns, status subresource)
// whose schema accepts the policies weft documents and rejects malformed ones (checked with ajv over the
// rendered openAPIV3Schema, as the API server would; CEL rules are not evaluated by ajv), and that the API
// server keeps fields weft does not support (`when`, …) in rules, sources and operations instead of pruning
// them, so the control plane can fail closed on them.
import { Ajv } from 'ajv';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { cleanupHelmHome, describeHelm, find, render, type Rendered } from './chart.js';

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; 'x-kubernetes-preserve-unknown-fields'?: boolean; [k: string]: unknown };

/** Structural schema rule: every node states its type (metadata aside). */
function untyped(s: Schema, path: string, out: string[]): string[] {
  if (s.type === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) out.push(path);
  for (const [k, v] of Object.entries(s.properties ?? {})) untyped(v, `${path}.${k}`, out);
  if (s.items !== undefined) untyped(s.items, `${path}[]`, out);
  if (typeof s.additionalProperties === 'object') untyped(s.additionalProperties, `${path}{}`, out);
  return out;
}

/** Strips Kubernetes-only keywords ajv does not know. */
function forAjv(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(forAjv);
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!k.startsWith('x-kubernetes-')) out[k] = forAjv(v);
  return out;
}

const policy = (spec: unknown): unknown => ({ apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'demo' }, spec });

describeHelm('AuthorizationPolicy CRD', () => {
  let crd: Rendered;
  let validate: (v: unknown) => boolean;
  let errors: () => string;
  beforeAll(async () => {
    crd = find(await render(), 'CustomResourceDefinition', 'authorizationpolicies.security.weft.dev');
    const version = (crd.spec as { versions: { openAPIV3Schema?: unknown; schema: { openAPIV3Schema: unknown } }[] }).versions[0];
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const fn = ajv.compile(forAjv(version.schema.openAPIV3Schema) as object);
    validate = (v) => fn(v);
    errors = () => ajv.errorsText(fn.errors);
  });
  afterAll(cleanupHelmHome);

  it('is a valid v1 CRD with v1alpha1, status subresource and printer columns', () => {
    new CustomResourceDefinition(crd as never).validate();
    const spec = crd.spec as { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean; storage: boolean; subresources: unknown; additionalPrinterColumns: { name: string }[] }[] };
    expect(spec.group).toBe('security.weft.dev');
    expect(spec.scope).toBe('Namespaced');
    expect(spec.names).toMatchObject({ kind: 'AuthorizationPolicy', plural: 'authorizationpolicies' });
    const v = spec.versions[0];
    expect([v.name, v.served, v.storage]).toEqual(['v1alpha1', true, true]);
    expect(v.subresources).toEqual({ status: {} });
    expect(v.additionalPrinterColumns.map((c) => c.name)).toEqual(['Action', 'Accepted', 'Reason', 'Age']);
  });

  it('is structural: every schema node has a type', () => {
    const version = (crd.spec as { versions: { schema: { openAPIV3Schema: Schema } }[] }).versions[0];
    const spec = version.schema.openAPIV3Schema.properties?.spec as Schema;
    const status = version.schema.openAPIV3Schema.properties?.status as Schema;
    expect([...untyped(spec, 'spec', []), ...untyped(status, 'status', [])]).toEqual([]);
  });

  it('keeps unsupported fields in rules, sources and operations (no pruning: the control plane fails closed on them)', () => {
    const version = (crd.spec as { versions: { schema: { openAPIV3Schema: Schema } }[] }).versions[0];
    const rule = (version.schema.openAPIV3Schema.properties?.spec as Schema).properties?.rules?.items as Schema;
    const from = rule.properties?.from?.items as Schema;
    const to = rule.properties?.to?.items as Schema;
    const kept = [rule, from, from.properties?.source, to, to.properties?.operation].map((s) => s?.['x-kubernetes-preserve-unknown-fields']);
    expect(kept).toEqual([true, true, true, true, true]);
    expect(validate(policy({ action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }] })), errors()).toBe(true);
  });

  it.each([
    ['an L4 DENY by principal on a selector', { selector: { matchLabels: { app: 'b' } }, action: 'DENY', rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/demo/sa/a'] } }] }] }],
    ['an L7 ALLOW on a Service (waypoint)', { targetRefs: [{ group: '', kind: 'Service', name: 'backend' }], action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['demo'] } }], to: [{ operation: { methods: ['GET'], paths: ['/api/*'], ports: [8080] } }] }] }],
    ['a namespace-wide policy with ipBlocks', { action: 'ALLOW', rules: [{ from: [{ source: { ipBlocks: ['10.244.0.0/16'], notPrincipals: ['ns/demo/sa/bad'] } }] }] }],
    ['a policy on a waypoint Gateway', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }], action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'], paths: ['/admin'] } }] }] }],
  ])('accepts %s', (_name, spec) => {
    expect(validate(policy(spec)), errors()).toBe(true);
  });

  it.each([
    ['an unknown action', { action: 'REJECT' }, /action/],
    ['a port out of range', { rules: [{ to: [{ operation: { ports: [70000] } }] }] }, /ports/],
    ['a port as a string', { rules: [{ to: [{ operation: { ports: ['80'] } }] }] }, /ports/],
    ['a from entry without source', { rules: [{ from: [{ principals: ['x'] }] }] }, /source/],
    ['a targetRef of another kind', { targetRefs: [{ kind: 'Pod', name: 'a' }] }, /kind/],
    ['a targetRef without name', { targetRefs: [{ kind: 'Service' }] }, /name/],
    ['principals not a list', { rules: [{ from: [{ source: { principals: 'ns/a/sa/b' } }] }] }, /principals/],
    ['no spec at all', undefined, /spec/],
  ])('rejects %s', (_name, spec, where) => {
    const obj = spec === undefined ? { apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p' } } : policy(spec);
    expect(validate(obj)).toBe(false);
    expect(errors()).toMatch(where);
  });
});
