// Shared by the waypoint controller's tests (waypoints-controller.test.ts in a directory, on-kube/waypoints.ts
// on a real API server): a weft-waypoint Gateway and its class, and what the controller must generate for it.
import { expect } from 'vitest';
import type { ClusterSource } from '../../control/sources/source.js';
import { asKind } from '../../control/sources/schemas.js';
import { DEFAULT_WAYPOINT_IMAGE } from '../../control/waypoints/objects.js';
import { eventually } from '../support/eventually.js';

export const GATEWAY = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'wp', namespace: 'shop', uid: 'gw-uid-1' },
  spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
};
export const GATEWAY_CLASS = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'weft-waypoint' },
  spec: { controllerName: 'weft.dev/waypoint-controller' },
};

/** What the controller generates for GATEWAY, owned by it (`gatewayUid`: what the source has as its uid). */
export async function expectGenerated(source: ClusterSource, gatewayUid = 'gw-uid-1'): Promise<void> {
  const ref = { namespace: 'shop', name: 'wp' };
  const deploy = asKind(await eventually(() => source.get({ kind: 'Deployment', ...ref }), 15_000, 'Deployment'), 'Deployment')!;
  const sa = await eventually(() => source.get({ kind: 'ServiceAccount', ...ref }), 15_000, 'ServiceAccount');
  const svc = asKind(await eventually(() => source.get({ kind: 'Service', ...ref }), 15_000, 'Service'), 'Service')!;
  const pdb = await eventually(() => source.get({ kind: 'PodDisruptionBudget', ...ref }), 15_000, 'PodDisruptionBudget');
  for (const o of [deploy, sa, svc, pdb]) {
    expect(o.metadata.ownerReferences).toEqual([
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'wp', uid: gatewayUid, controller: true, blockOwnerDeletion: true },
    ]);
  }
  expect(deploy.spec.replicas).toBe(2);
  const podSpec = deploy.spec.template.spec as Record<string, unknown>;
  const selector = { matchLabels: deploy.spec.selector.matchLabels };
  expect(podSpec.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }]);
  expect(podSpec.affinity).toEqual({
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: selector } }] },
  });
  expect(pdb.apiVersion).toBe('policy/v1');
  expect(pdb.spec).toEqual({ maxUnavailable: 1, selector });
  const container = deploy.spec.template.spec.containers?.[0];
  // No parametersRef on the class: the chart's defaults, never an image nobody publishes (weft/waypoint).
  expect(container?.image).toBe(DEFAULT_WAYPOINT_IMAGE);
  expect(DEFAULT_WAYPOINT_IMAGE).toMatch(/^ghcr\.io\/weft-mesh\/weft:\d+\.\d+\.\d+/);
  expect((container as { resources?: unknown }).resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  expect((container as { securityContext?: unknown }).securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true });
  expect(container?.args?.slice(0, 4)).toEqual(['--gateway', 'shop/wp', '--control', '172.30.0.254:15012']);
  expect(container?.args).toContain('--token-file');
  expect(container?.args).toContain('--ca-root');
  expect(deploy.spec.template.spec.serviceAccountName).toBe('wp');
  expect(deploy.spec.template.metadata?.labels?.['weft.dev/dataplane-mode']).toBe('none');
  expect(svc.spec?.ports).toEqual([{ name: 'mesh', port: 15008, targetPort: 15008, protocol: 'TCP', appProtocol: 'hbone' }]);
  expect(svc.spec?.selector).toEqual(deploy.spec.selector.matchLabels);
}
