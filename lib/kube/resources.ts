/**
 * The resource types the CLI reads and writes, with what a REST path needs (plural, scope). Both cluster
 * clients (API server and lab directory) take these, so a command names a type once.
 */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function type(apiVersion: string, kind: string, plural: string, namespaced: boolean): ResourceType {
  return { apiVersion, kind, plural, namespaced };
}

export const Namespace = type('v1', 'Namespace', 'namespaces', false);
export const Node = type('v1', 'Node', 'nodes', false);
export const Pod = type('v1', 'Pod', 'pods', true);
export const Service = type('v1', 'Service', 'services', true);
export const Secret = type('v1', 'Secret', 'secrets', true);
export const ConfigMap = type('v1', 'ConfigMap', 'configmaps', true);
export const Event = type('v1', 'Event', 'events', true);
export const Deployment = type('apps/v1', 'Deployment', 'deployments', true);
export const DaemonSet = type('apps/v1', 'DaemonSet', 'daemonsets', true);
export const CustomResourceDefinition = type('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);
export const Gateway = type('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', true);
export const GatewayClass = type('gateway.networking.k8s.io/v1', 'GatewayClass', 'gatewayclasses', false);
export const HTTPRoute = type('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes', true);
export const GRPCRoute = type('gateway.networking.k8s.io/v1', 'GRPCRoute', 'grpcroutes', true);
export const ClusterRole = type('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false);
export const AuthorizationPolicy = type('security.weft.dev/v1alpha1', 'AuthorizationPolicy', 'authorizationpolicies', true);

/** The API group of a type ("" for the core group). */
export function groupOf(t: Pick<ResourceType, 'apiVersion'>): string {
  const i = t.apiVersion.indexOf('/');
  return i < 0 ? '' : t.apiVersion.slice(0, i);
}

export const ALL_TYPES: readonly ResourceType[] = [
  Namespace, Node, Pod, Service, Secret, ConfigMap, Event, Deployment, DaemonSet, CustomResourceDefinition,
  Gateway, GatewayClass, HTTPRoute, GRPCRoute, AuthorizationPolicy, ClusterRole,
];
