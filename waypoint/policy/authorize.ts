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

/** Where the decisions of a request are kept for its tap event (the request's Call). */
export interface PolicyVerdict {
  /** The enforced decision; undefined when no policy applies. */
  decision: AuthzDecision | undefined;
  /** The dry-run policies' would-be decision, where such policies apply. */
  wouldBe: AuthzDecision | undefined;
}

/**
 * The decision that denies the request (which policy and rule, why), or undefined when it is allowed.
 * Where dry-run policies apply, their would-be verdict is logged and counted too, never enforced. Both
 * decisions are kept in `verdict` (references to compiled decisions: nothing is built).
 */
export function denial(peer: PolicyPeer, method: string, path: string, dryRun: DryRunRecorder, verdict: PolicyVerdict): AuthzDecision | undefined {
  const policies = peer.policies.current();
  if (policies.size === 0 && policies.dryRun === undefined) return undefined;
  const req = { principal: peer.principal, sourceIp: peer.sourceIp, method, path, port: peer.servicePort.port };
  const d = (verdict.decision = policies.authorizeL7(req));
  if (policies.dryRun !== undefined) verdict.wouldBe = dryRun.l7(policies, req, d, { service: peer.serviceLabel, principal: peer.principal, source_ip: peer.sourceIp, method, path });
  return d.allowed ? undefined : d;
}
