import type { AuthzDecision, DryRunRecorder, WaypointPolicies } from '../../lib/authz/index.js';

// The policy layer of the request path: L7 AuthorizationPolicy (lib/authz, compiled once per state
// change), evaluated before routing as Istio's waypoint does, so a denied request never learns whether a
// route would have matched.

export interface PolicyPeer {
  readonly principal: string | undefined;
  readonly sourceIp: string | undefined;
  readonly servicePort: { readonly port: number };
  /** `namespace/name` of the Service, for the dry-run log line. */
  readonly serviceLabel: string;
  /** Read per request, so a policy change reaches requests on connections already open. */
  readonly policies: WaypointPolicies;
}

/**
 * The decision that denies the request (which policy and rule, why), or undefined when it is allowed.
 * Where dry-run policies apply, their would-be verdict is logged and counted too, never enforced.
 */
export function denial(peer: PolicyPeer, method: string, path: string, dryRun: DryRunRecorder): AuthzDecision | undefined {
  const policies = peer.policies.current();
  if (policies.size === 0 && policies.dryRun === undefined) return undefined;
  const req = { principal: peer.principal, sourceIp: peer.sourceIp, method, path, port: peer.servicePort.port };
  const d = policies.authorizeL7(req);
  if (policies.dryRun !== undefined) dryRun.l7(policies, req, d, { service: peer.serviceLabel, principal: peer.principal, source_ip: peer.sourceIp, method, path });
  return d.allowed ? undefined : d;
}
