// The names and ports every part of weft shares (ARCHITECTURE.md, "Names" and "Ports"), defined once.
// A change here is a change of contract: change ARCHITECTURE.md and the Helm chart with it.

/** Namespace or Pod label: `ambient` captures, `none` (on a Pod) never does. */
export const LABEL_DATAPLANE_MODE = 'weft.dev/dataplane-mode';
/** Namespace or Pod label: `strict` refuses plaintext from outside the mesh, `permissive` (default) accepts it. */
export const LABEL_MTLS_MODE = 'weft.dev/mtls-mode';
/** Namespace or Service label naming the waypoint (Gateway) its service traffic goes through. */
export const LABEL_USE_WAYPOINT = 'weft.dev/use-waypoint';
/** With LABEL_USE_WAYPOINT: the waypoint's namespace when it is not the labelled object's own. */
export const LABEL_USE_WAYPOINT_NAMESPACE = 'weft.dev/use-waypoint-namespace';
/** Gateway label: what a waypoint serves, `service|workload|all|none` (default `service`). */
export const LABEL_WAYPOINT_FOR = 'weft.dev/waypoint-for';
/** Pod annotation: the path of the pod's network namespace, when the runtime records it (the lab does). */
export const ANNOTATION_NETNS = 'weft.dev/netns';

/** The control plane's namespace unless told otherwise (chart, CLI, weft-control's --namespace). */
export const CONTROL_NAMESPACE = 'weft-system';

/**
 * Pod annotations of the common `kubernetes-pods` Prometheus scrape job (not weft's own): the chart puts
 * them on the control plane and the node agents, the waypoint controller on waypoints, the lab's
 * Prometheus reads them.
 */
export const ANNOTATION_PROMETHEUS_SCRAPE = 'prometheus.io/scrape';
export const ANNOTATION_PROMETHEUS_PORT = 'prometheus.io/port';
export const ANNOTATION_PROMETHEUS_PATH = 'prometheus.io/path';

/** `gatewayClassName` of the Gateways weft runs as waypoints. */
export const WAYPOINT_CLASS = 'weft-waypoint';

/** Outbound capture in each captured pod (REDIRECT of the pod's own TCP connections). */
export const OUTBOUND_PORT = 15001;
/** Inbound plaintext capture in each captured pod (peers outside the mesh). */
export const INBOUND_PLAIN_PORT = 15006;
/** HBONE (HTTP/2 CONNECT over mTLS) in each captured pod and on waypoints. */
export const HBONE_PORT = 15008;
/** Node agent / waypoint admin (loopback by default). */
export const ADMIN_PORT = 15000;
/** Prometheus metrics (node agent, waypoint, control). */
export const METRICS_PORT = 15020;
/** Health: `/healthz/ready`. */
export const HEALTH_PORT = 15021;
/** Control plane gRPC (TLS). */
export const CONTROL_PORT = 15012;
