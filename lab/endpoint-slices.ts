import type { KubeObject } from './manifests.js';

/**
 * What the lab's kube-proxy reads of an EndpointSlice (discovery.k8s.io/v1): the Service it belongs to
 * (label `kubernetes.io/service-name`), its ports (named as the Service's ports, numbered as the
 * endpoints' resolved target ports) and the addresses of its ready endpoints, as the real
 * kube-controller-manager's EndpointSlice controller writes them.
 */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface SlicePort {
  /** The Service port's name ('' for an unnamed port), as the controller writes it. */
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

export interface EndpointSliceView {
  readonly namespace: string;
  readonly service: string;
  readonly ports: readonly SlicePort[];
  /** Addresses of the ready endpoints only. */
  readonly addresses: readonly string[];
}

interface ApiEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean };
}

/**
 * An API EndpointSlice as the proxy uses it (undefined: not IPv4, or owned by no Service). An endpoint
 * whose `conditions.ready` is unset counts as ready, as the API documents and kube-proxy does; the
 * controller always sets it.
 */
export function endpointSliceView(obj: KubeObject): EndpointSliceView | undefined {
  const raw = obj as unknown as { addressType?: string; ports?: { name?: string; port?: number; protocol?: string }[] | null; endpoints?: ApiEndpoint[] | null };
  const service = obj.metadata.labels?.[SERVICE_NAME_LABEL];
  if (service === undefined || raw.addressType !== 'IPv4') return undefined;
  const ports = (raw.ports ?? []).flatMap((p) => (typeof p.port === 'number' ? [{ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }] : []));
  const addresses = (raw.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? []);
  return { namespace: obj.metadata.namespace ?? 'default', service, ports, addresses };
}
