import type { AuthzDecision, CompiledOperation, CompiledPolicy, CompiledRule, CompiledSource } from './compile.js';
import { namespaceOfPrincipal } from './principal.js';

// Istio's semantics, at both enforcement points: any matching DENY rule denies; with no ALLOW policy
// everything else is allowed; otherwise some ALLOW rule must match. An ALLOW policy without rules allows
// nothing, a DENY policy without rules denies nothing. Within a rule `from` and `to` must both hold;
// within each list one entry is enough; within an entry every field set must hold.
//
// L4 (node agent) sees no method or path: an operation naming one cannot be checked there, so it never
// matches in an ALLOW rule and matches on its ports alone in a DENY rule (fail closed). L7 (waypoint)
// checks every field.
//
// Evaluation is a pure function of a PolicySet and the request and allocates nothing: decisions are
// built when the set is. Dry-run policies (`weft.dev/dry-run: "true"`) are left out of the enforced set;
// where any apply, `dryRun` is a second set holding every policy as if the dry-run ones were enforced
// too, evaluated the same way by the caller, its verdict logged and counted (dry-run.ts), never enforced.
// Where none apply it is undefined and costs nothing.

/** What the destination knows about a connection (L4) or request (L7) when it decides. */
export interface AuthzRequest {
  /** The peer's SPIFFE ID from its verified certificate; undefined for a plaintext peer. */
  readonly principal: string | undefined;
  readonly sourceIp: string | undefined;
  /** The destination port: the pod's port at L4, the Service port at the waypoint. */
  readonly port: number;
}

export interface L7AuthzRequest extends AuthzRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
}

const NO_POLICY: AuthzDecision = Object.freeze({ allowed: true, policy: undefined, rule: undefined, reason: 'no policy' });

/** The policies that apply at one place (a workload at L4, a Service at a waypoint), compiled. */
export class PolicySet {
  /** The policies this set enforces. */
  readonly policies: readonly CompiledPolicy[];
  readonly denies: readonly CompiledPolicy[];
  readonly allows: readonly CompiledPolicy[];
  /** When dry-run policies apply: every policy, the dry-run ones as if enforced (the would-be verdict). */
  readonly dryRun: PolicySet | undefined;
  /** The decision when ALLOW policies apply and none matches. */
  private readonly noAllowMatched: AuthzDecision;

  /** `all`: the policies that apply here, dry-run ones included; `enforceDryRun` builds the would-be set. */
  constructor(all: readonly CompiledPolicy[], enforceDryRun = false) {
    const policies = enforceDryRun ? all : all.filter((p) => !p.dryRun);
    this.policies = policies;
    this.denies = policies.filter((p) => p.action === 'DENY');
    this.allows = policies.filter((p) => p.action === 'ALLOW');
    this.noAllowMatched = Object.freeze({ allowed: false, policy: this.allows.map((p) => p.id).join(','), rule: undefined, reason: 'no ALLOW policy matched' });
    this.dryRun = !enforceDryRun && policies.length < all.length ? new PolicySet(all, true) : undefined;
  }

  get size(): number {
    return this.policies.length;
  }

  /** Decides a connection at L4 (node agent). */
  authorizeL4(req: AuthzRequest): AuthzDecision {
    return this.evaluate(req, undefined);
  }

  /** Decides a request at L7 (waypoint). */
  authorizeL7(req: L7AuthzRequest): AuthzDecision {
    return this.evaluate(req, req);
  }

  private evaluate(req: AuthzRequest, l7: L7AuthzRequest | undefined): AuthzDecision {
    if (this.policies.length === 0) return NO_POLICY;
    for (const p of this.denies) for (const r of p.rules) if (ruleMatches(r, req, l7, true)) return r.decision;
    if (this.allows.length === 0) return NO_POLICY;
    for (const p of this.allows) for (const r of p.rules) if (ruleMatches(r, req, l7, false)) return r.decision;
    return this.noAllowMatched;
  }
}

export const EMPTY_POLICY_SET = new PolicySet([]);

// Loops rather than `some(() => ...)`: no closure per request.
function ruleMatches(r: CompiledRule, req: AuthzRequest, l7: L7AuthzRequest | undefined, deny: boolean): boolean {
  if (r.from.length > 0) {
    let any = false;
    for (const s of r.from) if ((any = sourceMatches(s, req))) break;
    if (!any) return false;
  }
  if (r.to.length === 0) return true;
  for (const o of r.to) if (operationMatches(o, req, l7, deny)) return true;
  return false;
}

function sourceMatches(s: CompiledSource, req: AuthzRequest): boolean {
  const id = req.principal;
  if (s.principals && !s.principals.matches(id)) return false;
  if (s.notPrincipals && s.notPrincipals.matches(id)) return false;
  if (s.namespaces && !s.namespaces.matches(namespaceOf(id))) return false;
  if (s.notNamespaces && s.notNamespaces.matches(namespaceOf(id))) return false;
  if (s.ipBlocks && !s.ipBlocks.matches(req.sourceIp)) return false;
  if (s.notIpBlocks && s.notIpBlocks.matches(req.sourceIp)) return false;
  return true;
}

// A connection's requests share one principal string: remember the last one parsed.
let lastPrincipal: string | undefined;
let lastNamespace: string | undefined;
function namespaceOf(principal: string | undefined): string | undefined {
  if (principal !== lastPrincipal) {
    lastPrincipal = principal;
    lastNamespace = namespaceOfPrincipal(principal);
  }
  return lastNamespace;
}

function operationMatches(o: CompiledOperation, req: AuthzRequest, l7: L7AuthzRequest | undefined, deny: boolean): boolean {
  if (o.ports && !o.ports.includes(req.port)) return false;
  if (o.notPorts && o.notPorts.includes(req.port)) return false;
  if (!o.l7) return true;
  // At L4 the L7 part cannot be checked: fail closed.
  if (l7 === undefined) return deny;
  if (o.methods && !o.methods.matches(l7.method)) return false;
  if (o.notMethods && o.notMethods.matches(l7.method)) return false;
  if (o.paths && !o.paths.matches(l7.path)) return false;
  if (o.notPaths && o.notPaths.matches(l7.path)) return false;
  return true;
}
