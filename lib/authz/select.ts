import type { AuthorizationPolicy, StateView, Workload } from '../model/index.js';

// Where a policy is enforced (ARCHITECTURE.md, "Authorization"): L4 rules by the node agent at the
// destination workload, L7 rules by the waypoint. A Service-targeted policy is enforced at the Service's
// waypoint when it has one, else at the node agent; a Gateway-targeted one only by that waypoint. The two
// predicates below are the two halves of that contract, kept side by side so they cannot drift apart.

/** Whether the node agent enforces `policy` (of the workload's namespace) for connections to `workload`. */
export function appliesToWorkload(policy: AuthorizationPolicy, view: StateView, workload: Workload): boolean {
  if (policy.namespace !== workload.namespace) return false;
  return policy.targets.some((t) => {
    switch (t.kind) {
      case 'namespace':
        return true;
      case 'selector':
        return Object.entries(t.matchLabels).every(([k, v]) => workload.labels[k] === v);
      case 'service': {
        // A Service bound to a waypoint has its policies enforced there (with the client's identity and
        // L7 attributes); at L4 the agent would only see the waypoint and fail closed on L7 rules.
        const svc = view.service(workload.namespace, t.name);
        if (svc === undefined || svc.waypoint !== undefined) return false;
        return svc.endpoints.some((e) => e.workloadUid === workload.uid);
      }
      case 'gateway':
        return false; // enforced by the waypoint
    }
  });
}

/** Whether the waypoint `gateway` enforces `policy` for requests to `service`. */
export function appliesAtWaypoint(
  policy: AuthorizationPolicy,
  gateway: { readonly namespace: string; readonly name: string },
  service: { readonly namespace: string; readonly name: string },
): boolean {
  return policy.targets.some(
    (t) =>
      (t.kind === 'gateway' && policy.namespace === gateway.namespace && t.name === gateway.name) ||
      (t.kind === 'service' && policy.namespace === service.namespace && t.name === service.name),
  );
}
