/**
 * The findings of `weft check`, one stable code each (as Istio's IST0101 analyzer messages): scripts, alerts
 * and docs key on the code, never on the wording. This table is the one list; docs/check.md is generated
 * from it (`npm run gen:check-doc`) and a test keeps them equal, another that every code is raised by an
 * analyzer and pinned by a test. A code is never reused for another meaning.
 *
 * Severity: `error` breaks traffic or will (exit status 1), `warning` will need attention.
 */
export type FindingSeverity = 'error' | 'warning';

export interface FindingSpec {
  /** A short CamelCase name, as Istio's (`ReferencedResourceNotFound`). */
  readonly name: string;
  readonly severity: FindingSeverity;
  /** What it means, for the docs page. */
  readonly means: string;
  /** What to do, for the docs page (each finding carries its own command). */
  readonly todo: string;
}

export const FINDINGS = {
  'WEFT-C001': {
    name: 'RouteNotAccepted',
    severity: 'error',
    means: 'An HTTPRoute or GRPCRoute has `Accepted=False` for a parent in the status weft-control wrote: it has no effect there (no waypoint for the Service, a filter weft does not implement, a port the Service lacks).',
    todo: 'Read the condition message in the finding, fix the route or give the Service a waypoint (`weft waypoint apply`).',
  },
  'WEFT-C002': {
    name: 'RouteRefsUnresolved',
    severity: 'error',
    means: 'A route has `ResolvedRefs=False`: a backendRef names a Service (or port) that does not exist, a kind other than Service, or crosses namespaces without a ReferenceGrant. Requests to that backend fail (500).',
    todo: 'Fix the backendRef, create the Service, or add the ReferenceGrant in the backend\'s namespace.',
  },
  'WEFT-C003': {
    name: 'ParentRefNotFound',
    severity: 'error',
    means: 'A route\'s parentRef names a Service or Gateway that does not exist (often a misspelling). For a Gateway no controller answers, so the route carries no status at all and silently does nothing.',
    todo: 'Correct the name in spec.parentRefs (the finding suggests the closest existing one).',
  },
  'WEFT-C004': {
    name: 'RoutePartiallyInvalid',
    severity: 'warning',
    means: 'A route has `PartiallyInvalid=True`: some of it (e.g. a retry annotation) is ignored and the rest applies.',
    todo: 'Fix the value named in the message.',
  },
  'WEFT-C010': {
    name: 'PolicyNotAccepted',
    severity: 'error',
    means: 'An AuthorizationPolicy has `Accepted=False` (reason `Invalid` or `TargetNotFound`): it is not enforced as written (an invalid policy is served in its fail-closed form).',
    todo: 'Read the condition message in the finding and fix the policy or its targetRefs.',
  },
  'WEFT-C011': {
    name: 'PolicyFailClosed',
    severity: 'error',
    means: 'An AuthorizationPolicy with L7 rules (methods, paths) targets a Service or namespace that has no waypoint (deleted, or never created): the node agents enforce it as DENY for all the traffic it selects.',
    todo: 'Deploy the waypoint it needs (`weft waypoint apply`) and enroll the Service or namespace, or remove the L7 fields from the policy.',
  },
  'WEFT-C012': {
    name: 'PolicyFieldsUnsupported',
    severity: 'warning',
    means: 'An AuthorizationPolicy has `FullySupported=False`: it uses fields weft does not implement, and is enforced fail closed for them (the message says how).',
    todo: 'Remove or replace the fields named in the message.',
  },
  'WEFT-C020': {
    name: 'NodeAgentNotRunning',
    severity: 'error',
    means: 'No node agent runs on a node that has captured pods: their traffic goes nowhere, and new pods there cannot start (weft-cni fails closed).',
    todo: 'Find out why it stopped (its logs) and start it again.',
  },
  'WEFT-C021': {
    name: 'NodeAgentNotReady',
    severity: 'error',
    means: 'The node agent of a node that has captured pods runs but is not ready (no configuration or certificates from weft-control yet): connections of its pods fail.',
    todo: 'Its logs and readiness reason say what it waits for, often weft-control.',
  },
  'WEFT-C022': {
    name: 'CniConfigContested',
    severity: 'error',
    means: '`install-cni` on a node is in a fight with another writer of the CNI config, which keeps removing `weft-cni`: pods created meanwhile start uncaptured.',
    todo: 'Change the other writer\'s setting (Cilium: `cni.exclusive=false`); the finding names it when `install-cni` recognised it.',
  },
  'WEFT-C030': {
    name: 'CaCertificateExpiring',
    severity: 'error',
    means: 'A CA certificate of the mesh (Secret `weft-ca`, in a lab too) has expired, is not valid yet, or expires within the CA threshold (`--ca-expiry-threshold`, 30d by default).',
    todo: 'Rotate the CA without restarts (docs/rotation.md).',
  },
  'WEFT-C031': {
    name: 'CaExpiresBeforeLeafLifetime',
    severity: 'error',
    means: 'The issuing CA expires before one leaf lifetime from now: every workload certificate is cut short at its expiry, renewals come ever sooner, and after it none can be issued. weft-control reports the same as `weft_control_ca_expires_before_leaf_lifetime` = 1.',
    todo: 'Rotate the CA now (docs/rotation.md); lowering the leaf lifetime only hides this.',
  },
  'WEFT-C032': {
    name: 'WorkloadCertificateExpiring',
    severity: 'warning',
    means: 'A workload certificate a node agent or waypoint holds (its `/debug/certificates`) expires within the threshold: a quarter of its lifetime, or `--cert-expiry-threshold`. Certificates renew at half-life, so renewal has been failing for a while.',
    todo: 'The holder\'s log says why renewal fails (often weft-control unreachable or refusing).',
  },
  'WEFT-C033': {
    name: 'WorkloadCertificateExpired',
    severity: 'error',
    means: 'A workload certificate a node agent or waypoint holds has expired: peers refuse its mTLS handshakes.',
    todo: 'The holder\'s log says why renewal fails; restarting it requests a new certificate.',
  },
} as const satisfies Readonly<Record<string, FindingSpec>>;

export type FindingCode = keyof typeof FINDINGS;

/** One finding: which code, about which object, what was found and the command to run (if there is one). */
export interface Finding {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  /** `HTTPRoute demo/web`, `node n2`, `certificate spiffe://… at node agent n1`. */
  readonly object: string;
  readonly message: string;
  /** What to do; commands in backticks run as printed. */
  readonly fix: string;
}

export function finding(code: FindingCode, object: string, message: string, fix: string): Finding {
  return { code, severity: FINDINGS[code].severity, object, message, fix };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
