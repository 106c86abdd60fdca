// Pins: the control plane Deployment (1 replica by default; 3 with anti-affinity and a PDB for HA), its
// Service ports (15012 gRPC, 15020 metrics), the process flags (control/config.ts), the external CA wiring, and least-
// privilege RBAC: no wildcards, writes only to status, waypoint-owned kinds, the CA Secret (by name), the
// trust-root ConfigMaps and Leases, plus TokenReview create.
import { KIND_INFO } from '../../control/sources/schemas.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXTERNAL_CA_VALUES, HA_VALUES, cleanupHelmHome, describeHelm, find, render, type Rendered } from './chart.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

function rules(o: Rendered): Rule[] {
  return (o as unknown as { rules: Rule[] }).rules;
}
function controlArgs(objs: Rendered[]): string[] {
  const d = find(objs, 'Deployment', 'weft-control');
  return (d.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0].args;
}

describeHelm('control plane', () => {
  let def: Rendered[];
  let ha: Rendered[];
  let ext: Rendered[];
  beforeAll(async () => {
    def = await render();
    ha = await render(['--values', HA_VALUES]);
    ext = await render(['--values', EXTERNAL_CA_VALUES]);
  });
  afterAll(cleanupHelmHome);

  it('runs one replica by default with the kube source and the contract ports', () => {
    const d = find(def, 'Deployment', 'weft-control');
    expect((d.spec as { replicas: number }).replicas).toBe(1);
    expect((d.spec as { template: { spec: { affinity?: unknown } } }).template.spec.affinity).toBeUndefined();
    expect(controlArgs(def)).toEqual(
      expect.arrayContaining(['--source=kube', '--namespace=weft-system', '--trust-domain=cluster.local', '--listen=0.0.0.0:15012', '--health-address=0.0.0.0:15021']),
    );
    const ports = (find(def, 'Service', 'weft-control').spec as { ports: { name: string; port: number }[] }).ports.map((p) => [p.name, p.port]);
    expect(ports).toEqual([
      ['grpc', 15012],
      ['http-metrics', 15020],
    ]);
    const sc = (d.spec as { template: { spec: { securityContext: { runAsNonRoot: boolean } } } }).template.spec.securityContext;
    expect(sc.runAsNonRoot).toBe(true);
  });

  it('HA: 3 replicas spread over nodes with a PodDisruptionBudget', () => {
    const d = find(ha, 'Deployment', 'weft-control');
    expect((d.spec as { replicas: number }).replicas).toBe(3);
    const affinity = (d.spec as { template: { spec: { affinity: { podAntiAffinity: Record<string, { topologyKey: string }[]> } } } }).template.spec.affinity;
    expect(affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey).toBe('kubernetes.io/hostname');
    expect((find(ha, 'PodDisruptionBudget', 'weft-control').spec as { maxUnavailable: number }).maxUnavailable).toBe(1);
  });

  it('external CA: mounts the user Secret as files for --ca-cert/--ca-key; RBAC needs no access to it', () => {
    expect(controlArgs(ext)).toEqual(expect.arrayContaining(['--ca-cert=/etc/weft/external-ca/ca.crt', '--ca-key=/etc/weft/external-ca/ca.key', '--trust-domain=mesh.example.org']));
    expect(controlArgs(def).some((a) => a.startsWith('--ca-cert'))).toBe(false);
    const d = find(ext, 'Deployment', 'weft-control');
    const vols = (d.spec as { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } }).template.spec.volumes;
    expect(vols.find((v) => v.name === 'external-ca')?.secret?.secretName).toBe('weft-intermediate-ca');
    const role = rules(find(ext, 'Role', 'weft-control'));
    expect(role.some((r) => r.resourceNames?.includes('weft-intermediate-ca'))).toBe(false);
  });

  it('RBAC is least privilege', () => {
    const cluster = rules(find(def, 'ClusterRole', 'weft-control'));
    const ns = rules(find(def, 'Role', 'weft-control'));
    for (const r of [...cluster, ...ns]) {
      expect(r.verbs).not.toContain('*');
      expect(r.resources).not.toContain('*');
      expect(r.apiGroups).not.toContain('*');
    }
    // Cluster-wide writes only to status subresources, waypoint-owned kinds, trust-root ConfigMaps, events, TokenReviews.
    const allowedClusterWrites = new Set([
      'gateways/status', 'gatewayclasses/status', 'httproutes/status', 'grpcroutes/status', 'authorizationpolicies/status',
      'services', 'serviceaccounts', 'deployments', 'configmaps', 'tokenreviews', 'events',
    ]);
    for (const r of cluster.filter((x) => x.verbs.some((v) => WRITE.includes(v)))) {
      for (const res of r.resources) expect(allowedClusterWrites, `ClusterRole writes ${res}`).toContain(res);
    }
    expect(cluster.some((r) => r.resources.includes('secrets'))).toBe(false);
    expect(cluster.find((r) => r.resources.includes('tokenreviews'))?.verbs).toEqual(['create']);
    // Reads what the sources watch.
    for (const res of ['pods', 'services', 'endpointslices', 'namespaces', 'serviceaccounts', 'gateways', 'gatewayclasses', 'httproutes', 'grpcroutes', 'referencegrants', 'authorizationpolicies']) {
      expect(cluster.some((r) => r.resources.includes(res) && r.verbs.includes('watch')), `watch ${res}`).toBe(true);
    }
    // Every kind the Kubernetes source informs on (a missing one would keep the control plane from syncing).
    for (const k of Object.values(KIND_INFO)) {
      expect(cluster.some((r) => r.apiGroups.includes(k.group) && r.resources.includes(k.plural) && ['list', 'watch'].every((v) => r.verbs.includes(v))), `list+watch ${k.plural}`).toBe(true);
    }
    // The CA Secret: update only by name.
    const secretUpdate = ns.find((r) => r.resources.includes('secrets') && r.verbs.includes('update'));
    expect(secretUpdate?.resourceNames).toEqual(['weft-ca']);
    expect(ns.some((r) => r.resources.includes('leases'))).toBe(true);
  });

  it('the node agent ServiceAccount gets no RBAC at all', () => {
    const bindings = def.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    for (const b of bindings) {
      const subjects = (b as unknown as { subjects: { name: string }[] }).subjects;
      expect(subjects.map((s) => s.name)).toEqual(['weft-control']);
    }
  });
});
