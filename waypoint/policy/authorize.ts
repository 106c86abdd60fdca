import type { AuthzDecision, WaypointPolicies } from '../../lib/authz/index.js';

// The policy layer of the request path: L7 AuthorizationPolicy (lib/authz, compiled once per state
// change), evaluated before routing as Istio's waypoint does, so a denied request never learns whether a
// route would have matched.

export interface PolicyPeer {
  readonly principal: string | undefined;
  readonly sourceIp: string | undefined;
  readonly servicePort: { readonly port: number };
  /** Read per request, so a policy change reaches requests on connections already open. */
  readonly policies: WaypointPolicies;
}

/** The decision that denies the request (which policy and rule, why), or undefined when it is allowed. */
export function denial(peer: PolicyPeer, method: string, path: string): AuthzDecision | undefined {
  const policies = peer.policies.current();
  if (policies.size === 0) return undefined;
  const d = policies.authorizeL7({ principal: peer.principal, sourceIp: peer.sourceIp, method, path, port: peer.servicePort.port });
  return d.allowed ? undefined : d;
}
