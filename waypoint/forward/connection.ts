import type { WaypointPolicies } from '../../lib/authz/index.js';
import type { Service, ServicePort } from '../../lib/model/index.js';
import type { RequestScope } from '../metrics.js';
import type { UpstreamProtocol } from '../upstream/clients.js';

/** What one inbound connection (an HBONE tunnel) carries for all its requests. */
export interface ConnectionInfo {
  readonly service: Service;
  readonly servicePort: ServicePort;
  /** SPIFFE ID of the client (the HBONE peer: the client pod's own certificate). */
  readonly principal: string | undefined;
  /** Namespace of `principal`: picks the consumer routes that apply to this client. */
  readonly clientNamespace: string | undefined;
  readonly sourceIp: string | undefined;
  readonly sourceWorkload: string;
  /** `namespace/name` of the destination Service, for labels. */
  readonly serviceLabel: string;
  /** Upstream protocol for this port: h2 for http2/grpc ports and for h2 clients on sniffed ports. */
  readonly upstream: UpstreamProtocol;
  /** Read per request, so a policy change reaches requests on connections already open. */
  readonly policies: WaypointPolicies;
  /** Metric cells of this connection's label combination (source, principal, service), shared. */
  readonly metrics: RequestScope;
}
