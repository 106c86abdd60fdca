// Label values shared by the node agent's TCP metrics and the waypoint's request metrics, with Istio's
// standard semantics so that dashboards written for Istio read weft's series: a Service is named by its
// FQDN in `destination_service` and by name and namespace apart; `connection_security_policy` says
// whether the hop was mutual TLS. Values are built once per Service object (state changes make new
// objects), never per connection or request.

/** Kubernetes cluster DNS domain (`<svc>.<ns>.svc.<domain>`). */
export const CLUSTER_DOMAIN = 'cluster.local';

/** A label whose value weft does not know. */
export const UNKNOWN = 'unknown';

export type ConnectionSecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

export interface ServiceLabels {
  /** `<name>.<namespace>.svc.cluster.local`, or `unknown`. */
  readonly destination_service: string;
  readonly destination_service_name: string;
  readonly destination_service_namespace: string;
}

export const NO_SERVICE: ServiceLabels = Object.freeze({ destination_service: UNKNOWN, destination_service_name: UNKNOWN, destination_service_namespace: UNKNOWN });

const byService = new WeakMap<object, ServiceLabels>();

/** The Service labels of `service` (undefined: none known), cached per Service object. */
export function serviceLabelsOf(service: { readonly namespace: string; readonly name: string } | undefined): ServiceLabels {
  if (service === undefined) return NO_SERVICE;
  let l = byService.get(service);
  if (l === undefined) {
    l = Object.freeze({
      destination_service: `${service.name}.${service.namespace}.svc.${CLUSTER_DOMAIN}`,
      destination_service_name: service.name,
      destination_service_namespace: service.namespace,
    });
    byService.set(service, l);
  }
  return l;
}
