export { AuthzPolicies, WaypointPolicies, type GatewayRef } from './policies.js';
export { PolicySet, EMPTY_POLICY_SET, type AuthzRequest, type L7AuthzRequest } from './evaluate.js';
export { compilePolicy, POLICY_DENIED_REASON, type AuthzDecision, type CompiledPolicy } from './compile.js';
export { appliesAtWaypoint, appliesToWorkload } from './select.js';
export { normalisePrincipal, namespaceOfPrincipal } from './principal.js';
export { DryRunRecorder, type DryRunReporter, type DryRunVerdict } from './dry-run.js';
