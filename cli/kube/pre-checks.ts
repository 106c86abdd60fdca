import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { API_DOWN, apiCheck, gatewayApiCheck } from './cluster-checks.js';
import { fail, guarded, ok, parseVersion, skip, versionAtLeast, warn, type CheckResult } from './check-result.js';
import { ClusterRole, CustomResourceDefinition, DaemonSet, Deployment, Namespace, Node, Secret, Service, type ResourceType } from '../../lib/kube/resources.js';

/**
 * `weft check --pre`: what must hold before `weft install`.
 * - permissions: SelfSubjectAccessReviews for what the chart creates (cluster-admin has them all);
 * - no other mesh's CNI: DaemonSets of istio-cni, Istio ztunnel, linkerd-cni would capture the same pods;
 * - kernel: each node's reported kernel (status.nodeInfo.kernelVersion) ≥ 5.4 (nftables with the
 *   connmark/fwmark and socket features the node agent uses), Linux on amd64/arm64 (the image's platforms);
 * - Gateway API CRDs, which the chart's GatewayClass needs.
 */
export const MIN_KERNEL = [5, 4];

const NEEDED: readonly { verb: string; type: ResourceType; namespaced: boolean }[] = [
  { verb: 'create', type: CustomResourceDefinition, namespaced: false },
  { verb: 'create', type: ClusterRole, namespaced: false },
  { verb: 'create', type: Namespace, namespaced: false },
  { verb: 'create', type: Deployment, namespaced: true },
  { verb: 'create', type: DaemonSet, namespaced: true },
  { verb: 'create', type: Service, namespaced: true },
  { verb: 'create', type: Secret, namespaced: true },
];

/** Names that identify another mesh's node-level capture. */
const OTHER_MESH_CNI: readonly { pattern: RegExp; mesh: string }[] = [
  { pattern: /^istio-cni(-node)?$/, mesh: 'Istio CNI' },
  { pattern: /^ztunnel$/, mesh: 'Istio ambient (ztunnel)' },
  { pattern: /^linkerd-cni$/, mesh: 'Linkerd CNI' },
  { pattern: /^kuma-cni$/, mesh: 'Kuma CNI' },
];

export async function permissionsCheck(client: ClusterClient, namespace: string): Promise<CheckResult> {
  const name = 'permissions';
  return guarded(name, async () => {
    const missing: string[] = [];
    for (const n of NEEDED) {
      if (!(await client.canI(n.verb, n.type, n.namespaced ? namespace : undefined))) missing.push(`${n.verb} ${n.type.plural}${n.namespaced ? ` in ${namespace}` : ''}`);
    }
    if (missing.length > 0) return fail(name, `the current user cannot ${missing.join(', ')}`, 'Install with a cluster-admin context (`kubectl config use-context ...`) or ask your cluster admin.');
    return ok(name, `can create what the chart installs (${NEEDED.length} checks)`);
  });
}

export async function otherMeshCheck(client: ClusterClient): Promise<CheckResult> {
  const name = 'no other mesh CNI';
  return guarded(name, async () => {
    const found: string[] = [];
    for (const ds of await client.list(DaemonSet)) {
      const m = OTHER_MESH_CNI.find((o) => o.pattern.test(ds.metadata.name) || o.pattern.test(ds.metadata.labels?.['k8s-app'] ?? ''));
      if (m !== undefined) found.push(`${m.mesh} (DaemonSet ${ds.metadata.namespace ?? ''}/${ds.metadata.name})`);
    }
    if (found.length > 0) return fail(name, `found ${found.join(', ')}`, 'Two meshes would capture the same pods: uninstall the other one, or keep weft off its namespaces.');
    return ok(name, 'no istio-cni, ztunnel, linkerd-cni or kuma-cni DaemonSet');
  });
}

export async function kernelCheck(client: ClusterClient): Promise<CheckResult> {
  const name = 'node kernels';
  return guarded(name, async () => {
    const nodes = await client.list(Node);
    if (nodes.length === 0) return skip(name, 'no nodes reported');
    const problems: string[] = [];
    const kernels = new Set<string>();
    for (const n of nodes) {
      const info = (n.status?.nodeInfo ?? {}) as { kernelVersion?: string; operatingSystem?: string; architecture?: string };
      if (info.operatingSystem !== undefined && info.operatingSystem !== 'linux') continue; // not scheduled there
      const v = parseVersion(info.kernelVersion);
      if (info.kernelVersion !== undefined) kernels.add(info.kernelVersion);
      if (v === undefined) problems.push(`${n.metadata.name}: kernel unknown`);
      else if (!versionAtLeast(v, MIN_KERNEL)) problems.push(`${n.metadata.name}: kernel ${info.kernelVersion ?? ''} < ${MIN_KERNEL.join('.')}`);
      if (info.architecture !== undefined && !['amd64', 'arm64'].includes(info.architecture)) problems.push(`${n.metadata.name}: architecture ${info.architecture}`);
    }
    const unknownOnly = problems.length > 0 && problems.every((p) => p.endsWith('kernel unknown'));
    if (unknownOnly) return warn(name, problems.join('; '), 'Nodes did not report their kernel; make sure it is ≥ 5.4 with nftables.');
    if (problems.length > 0) return fail(name, problems.join('; '), `Use nodes with Linux ≥ ${MIN_KERNEL.join('.')} (nftables, connmark, IP_TRANSPARENT) on amd64 or arm64.`);
    return ok(name, `${nodes.length} node(s), kernel ${[...kernels].sort().join(', ')}`);
  });
}

export async function preChecks(client: ClusterClient, options: { namespace: string }): Promise<CheckResult[]> {
  const api = await apiCheck(client);
  const names = ['permissions', 'no other mesh CNI', 'node kernels', 'Gateway API CRDs'];
  if (api.status === 'fail' && !/older than/.test(api.message)) return [api, ...names.map((n) => skip(n, API_DOWN))];
  return [api, await permissionsCheck(client, options.namespace), await otherMeshCheck(client), await kernelCheck(client), await gatewayApiCheck(client)];
}
