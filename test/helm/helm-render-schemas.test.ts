// Pins: every object the chart renders (default, HA, external CA) is valid against the Kubernetes schemas
// (kubernetes-models 4.x validate()) for built-in kinds, the GatewayClass matches the Gateway API shape
// weft relies on, and nothing renders a kind the test does not know how to validate.
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as apiextensionsV1 from 'kubernetes-models/apiextensions.k8s.io/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { EXTERNAL_CA_VALUES, HA_VALUES, cleanupHelmHome, describeHelm, render, type Rendered } from './chart.js';

type Validating = new (data: Rendered) => { validate(): void };
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'policy/v1': policyV1,
  'rbac.authorization.k8s.io/v1': rbacV1,
  'apiextensions.k8s.io/v1': apiextensionsV1,
};

function validateBuiltIn(obj: Rendered): void {
  const Model = MODELS[obj.apiVersion]?.[obj.kind] as Validating | undefined;
  if (Model === undefined) throw new Error(`no Kubernetes model for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

function validateGatewayClass(obj: Rendered): void {
  expect(obj.apiVersion).toBe('gateway.networking.k8s.io/v1');
  expect(obj.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  const spec = obj.spec as { controllerName: string; parametersRef?: { group: string; kind: string; name: string; namespace?: string } };
  // Gateway API: controllerName is a domain-prefixed path; parametersRef has group, kind, name.
  expect(spec.controllerName).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/);
  expect(spec.parametersRef).toEqual({ group: '', kind: 'ConfigMap', name: 'weft-waypoint', namespace: 'weft-system' });
}

const SETS: [string, string[]][] = [
  ['default values', []],
  ['HA values', ['--values', HA_VALUES]],
  ['external CA values', ['--values', EXTERNAL_CA_VALUES]],
  ['private registry values', ['--set', 'image.registry=registry.example.org/mesh', '--set', 'imagePullSecrets[0]=regcred', '--set', 'imagePullSecrets[1].name=other']],
];

describeHelm('every rendered object validates against its schema', () => {
  const rendered = new Map<string, Rendered[]>();
  beforeAll(async () => {
    for (const [name, args] of SETS) rendered.set(name, await render(args));
  });
  afterAll(cleanupHelmHome);

  it.each(SETS.map(([n]) => n))('%s', (name) => {
    const objs = rendered.get(name) ?? [];
    expect(objs.length).toBeGreaterThan(10);
    for (const obj of objs) {
      const where = `${obj.kind}/${obj.metadata.name}`;
      try {
        if (obj.kind === 'GatewayClass') validateGatewayClass(obj);
        else validateBuiltIn(obj);
      } catch (err) {
        throw new Error(`${name}: ${where} is invalid: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      // Every namespaced object lands in the release namespace; every object carries the part-of label.
      if (!['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'GatewayClass'].includes(obj.kind)) {
        expect(obj.metadata.namespace, where).toBe('weft-system');
      }
      expect(obj.metadata.labels?.['app.kubernetes.io/part-of'], where).toBe('weft');
    }
  });

  it('a broken object is caught by the same validation (the check can fail)', () => {
    // The control Deployment declares ports (the node agent's DaemonSet does not: with hostNetwork they would be host ports).
    const deploy = structuredClone((rendered.get('default values') ?? []).find((o) => o.kind === 'Deployment')) as Rendered;
    ((deploy.spec as { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } }).template.spec.containers[0]).ports[0].containerPort = 'not-a-port';
    expect(() => validateBuiltIn(deploy)).toThrow();
  });

  it('a private registry reaches every container and pod', () => {
    const objs = rendered.get('private registry values') ?? [];
    for (const kind of ['Deployment', 'DaemonSet']) {
      const spec = (objs.find((o) => o.kind === kind)?.spec as { template: { spec: { imagePullSecrets: unknown; containers: { image: string }[] } } }).template.spec;
      expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'other' }]);
      for (const c of spec.containers) expect(c.image).toBe('registry.example.org/mesh/weft:0.1.0');
    }
    expect(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'weft-waypoint')?.data?.image).toBe('registry.example.org/mesh/weft:0.1.0');
  });

  it('renders the expected objects, and the PodDisruptionBudget only for HA', () => {
    const kinds = (name: string): string[] => (rendered.get(name) ?? []).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds('default values')).toEqual(
      [
        'ClusterRole/weft-control',
        'ClusterRoleBinding/weft-control',
        'ConfigMap/weft-waypoint',
        'CustomResourceDefinition/authorizationpolicies.security.weft.dev',
        'DaemonSet/weft-node-agent',
        'Deployment/weft-control',
        'GatewayClass/weft-waypoint',
        'Role/weft-control',
        'RoleBinding/weft-control',
        'Service/weft-control',
        'ServiceAccount/weft-control',
        'ServiceAccount/weft-node-agent',
      ].sort(),
    );
    expect(kinds('HA values')).toContain('PodDisruptionBudget/weft-control');
  });
});
