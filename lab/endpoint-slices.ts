import type { ContainerPort, KubeObject, ServicePort } from './manifests.js';
import { labelsMatch } from './deployments.js';

/**
 * What the lab's kube-proxy reads of an EndpointSlice (discovery.k8s.io/v1): the Service it belongs to
 * (label `kubernetes.io/service-name`), its ports (named as the Service's ports, numbered as the
 * endpoints' resolved target ports) and the addresses of its ready endpoints. API Services get theirs from
 * the real kube-controller-manager's EndpointSlice controller; Services of the lab's file store (no
 * controller there) get the same shape from `podEndpointSlices`, so that the rules have one input.
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

/** A ready pod of the file store, as the stand-in controller needs it. */
export interface ReadyPod {
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
}

/** The pod's port for a Service port: targetPort by number, by container port name, or `port`. */
export function targetPortOf(sp: ServicePort, pod: ReadyPod): number | undefined {
  const t = sp.targetPort ?? sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  return pod.ports.find((p) => p.name === t)?.containerPort;
}

/** What the stand-in controller reads of a Service (a ServiceView, services.ts). */
export interface SelectingService {
  readonly namespace: string;
  readonly name: string;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
}

/**
 * The file store's EndpointSlices, made as the controller makes them: per Service with a selector, the
 * ready pods of its namespace it selects, grouped by their resolved target ports (one slice per group;
 * a named port that a pod does not declare leaves that port out of the pod's slice).
 */
export function podEndpointSlices(services: readonly SelectingService[], ready: readonly ReadyPod[]): EndpointSliceView[] {
  const out: EndpointSliceView[] = [];
  for (const svc of services) {
    if (svc.selector === undefined) continue; // selectorless: its slices are made by hand (only through the API server)
    const groups = new Map<string, { ports: SlicePort[]; addresses: string[] }>();
    for (const pod of ready) {
      if (pod.namespace !== svc.namespace || !labelsMatch(svc.selector, pod.labels)) continue;
      const ports = svc.ports.flatMap((sp) => {
        const port = targetPortOf(sp, pod);
        return port === undefined ? [] : [{ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' }];
      });
      const key = JSON.stringify(ports);
      const g = groups.get(key) ?? { ports, addresses: [] };
      g.addresses.push(pod.ip);
      groups.set(key, g);
    }
    for (const g of groups.values()) out.push({ namespace: svc.namespace, service: svc.name, ...g });
  }
  return out;
}
