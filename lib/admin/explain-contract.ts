import type { AuthzDecision } from '../authz/index.js';

/**
 * What the admin endpoints answer to `weft explain`: each component says what it would do with a
 * connection or request, decided by its own code over its own live state (the outbound route choice, the
 * one authorization engine of lib/authz, the waypoint's route matching). The CLI only asks and joins.
 *
 * - node agent `/debug/explain/outbound?pod=<ns>/<name>&host=<host>&port=<port>`: the source side;
 * - node agent `/debug/explain/inbound?ip=<pod ip>&port=<port>&principal=<spiffe id>&sourceIp=<ip>`: the
 *   destination side (L4 policy);
 * - waypoint `/debug/explain?authority=<vip:port>&principal=..&sourceIp=..&method=..&path=..&host=..`: L7.
 */
export interface ExplainWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string | undefined;
  readonly node: string;
  readonly identity: string;
  readonly captured: boolean;
}

export interface ExplainEndpoint {
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly workload: ExplainWorkload | undefined;
}

export interface OutboundExplain {
  readonly source: ExplainWorkload & {
    /** The control plane's capture decision for the pod (labels). */
    readonly captured: boolean;
    /** This agent has the pod enrolled (capture rules and listeners in its netns). */
    readonly enrolled: boolean;
  };
  readonly destination: {
    readonly host: string;
    readonly address: string;
    readonly port: number;
    readonly service: { readonly namespace: string; readonly name: string; readonly targetPort: number | undefined } | undefined;
    readonly workload: ExplainWorkload | undefined;
  };
  readonly route:
    | {
        readonly kind: 'hbone';
        /** `waypoint` when the tunnel goes to a waypoint, `direct` when to the destination pod's agent. */
        readonly via: 'waypoint' | 'direct';
        readonly nextHop: string;
        readonly authority: string;
        readonly peerIdentity: string;
        readonly waypoint: { readonly namespace: string; readonly name: string; readonly address: string; readonly identity: string } | undefined;
      }
    | { readonly kind: 'passthrough'; readonly address: string; readonly port: number }
    | { readonly kind: 'refuse'; readonly code: string; readonly message: string };
  /** The Service's ready (and not ready) endpoints, as this agent knows them; the agent picks one per connection. */
  readonly endpoints: readonly ExplainEndpoint[];
}

export interface InboundExplain {
  readonly workload: ExplainWorkload;
  readonly mtlsMode: string;
  /** The policies that apply to the workload at L4 (`<ns>/<name>`). */
  readonly policies: readonly string[];
  readonly decision: AuthzDecision;
}

export interface WaypointExplain {
  readonly waypoint: { readonly namespace: string; readonly name: string; readonly identity: string | undefined };
  readonly service: { readonly namespace: string; readonly name: string; readonly port: number };
  /** The L7 policies that apply at this waypoint for the Service (`<ns>/<name>`). */
  readonly policies: readonly string[];
  readonly decision: AuthzDecision;
  /** `route`: a rule matched; `passthrough`: no route applies, the Service itself; `none`: routes apply, none matched (404). */
  readonly route:
    | { readonly kind: 'route'; readonly name: string; readonly rule: number; readonly backends: readonly ExplainBackend[] }
    | { readonly kind: 'passthrough'; readonly backends: readonly ExplainBackend[] }
    | { readonly kind: 'none' };
}

export interface ExplainBackend {
  /** `<ns>/<name>:<port>`, or the backendRef as written when it does not resolve. */
  readonly name: string;
  readonly weight: number;
  readonly valid: boolean;
  readonly endpoints: readonly ExplainEndpoint[];
}
