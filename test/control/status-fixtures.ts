// Shared by the status controller's tests (status-writer.test.ts in a directory, on-kube/status.ts on a
// real API server): a namespace using waypoint `wp`, the waypoint, a Service, a route to it and a policy.
export const NS = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/use-waypoint': 'wp' } } };
export const GW = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'wp', namespace: 'shop' }, spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } };
export const SVC = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };
export const ROUTE = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'shop' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
};
export const POLICY = {
  apiVersion: 'security.weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'shop' },
  spec: { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
};
