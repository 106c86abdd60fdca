import type { AuthorizationPolicy, AuthzOperation, AuthzRule, AuthzSource } from '../model/index.js';
import { GlobSet } from './glob.js';
import { IpSet } from './ip-set.js';
import { normalisePrincipal } from './principal.js';

// A policy from the state store, turned once into what a request is compared with: principals as
// patterns over full SPIFFE IDs, value lists as GlobSets, CIDR lists as BlockLists, and the decision
// each rule gives when it matches. Fields the control plane could not read never reach this point: it
// dropped the ALLOW rules that had them and kept only the readable conditions of DENY rules
// (control/discovery/authz-unsupported.ts), so what is compiled here fails closed as it stands. A value
// the control plane passed but no proxy can read (a malformed CIDR) fails closed the same way: in a DENY
// rule it counts as matching, in an ALLOW rule as not matching.

export interface CompiledSource {
  readonly principals: GlobSet | undefined;
  readonly notPrincipals: GlobSet | undefined;
  readonly namespaces: GlobSet | undefined;
  readonly notNamespaces: GlobSet | undefined;
  readonly ipBlocks: IpSet | undefined;
  readonly notIpBlocks: IpSet | undefined;
}

export interface CompiledOperation {
  readonly ports: readonly number[] | undefined;
  readonly notPorts: readonly number[] | undefined;
  /** The entry names methods or paths: only a waypoint can check it (see evaluate.ts for L4). */
  readonly l7: boolean;
  readonly methods: GlobSet | undefined;
  readonly notMethods: GlobSet | undefined;
  readonly paths: GlobSet | undefined;
  readonly notPaths: GlobSet | undefined;
}

export interface CompiledRule {
  /** Empty: every source. */
  readonly from: readonly CompiledSource[];
  /** Empty: every operation. */
  readonly to: readonly CompiledOperation[];
  /** What the evaluator returns when this rule decides; built here so a request allocates none. */
  readonly decision: AuthzDecision;
}

export interface CompiledPolicy {
  /** `<namespace>/<name>`, for decisions, logs and metrics. */
  readonly id: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly rules: readonly CompiledRule[];
  /** Evaluated for the would-be verdict only (PolicySet.dryRun), never enforced. */
  readonly dryRun: boolean;
  /** The policy as the store holds it (targets decide where it applies: select.ts). */
  readonly source: AuthorizationPolicy;
}

/**
 * The reason a refused peer is told, whichever policy refused it (waypoint: `x-weft-reason`; node agent: the
 * HBONE CONNECT answer's reason, `DENY: policy_denied`). Policy and rule names are internal detail: they go
 * to the access log and metrics of the component that decided, never back to the caller.
 */
export const POLICY_DENIED_REASON = 'policy_denied';

/** The outcome of evaluating a request against the policies that apply to it. */
export interface AuthzDecision {
  readonly allowed: boolean;
  /**
   * `<namespace>/<name>` of the deciding policy: the DENY or ALLOW policy whose rule matched; when ALLOW
   * policies applied and none matched, all of them, comma-separated; undefined when no policy decided.
   * For logs and metrics.
   */
  readonly policy: string | undefined;
  /** Index in `policy`'s rules of the rule that matched; undefined when no rule matched. */
  readonly rule: number | undefined;
  /** One line for logs; names the policy but not the rule. */
  readonly reason: string;
}

export function compilePolicy(policy: AuthorizationPolicy, trustDomain: string): CompiledPolicy {
  const id = `${policy.namespace}/${policy.name}`;
  const reason = policy.action === 'DENY' ? `DENY policy ${id} matched` : `ALLOW policy ${id} matched`;
  const allowed = policy.action !== 'DENY';
  return {
    id,
    action: policy.action,
    dryRun: policy.dryRun === true,
    rules: policy.rules.map((r, i) => compileRule(r, trustDomain, !allowed, Object.freeze({ allowed, policy: id, rule: i, reason }))),
    source: policy,
  };
}

function compileRule(rule: AuthzRule, trustDomain: string, deny: boolean, decision: AuthzDecision): CompiledRule {
  return {
    from: rule.from.map((s) => compileSource(s, trustDomain, deny)),
    to: rule.to.map(compileOperation),
    decision,
  };
}

function compileSource(s: AuthzSource, trustDomain: string, deny: boolean): CompiledSource {
  const principals = (list: readonly string[] | undefined): GlobSet | undefined =>
    list && new GlobSet(list.map((p) => normalisePrincipal(p, trustDomain)));
  return {
    principals: principals(s.principals),
    notPrincipals: principals(s.notPrincipals),
    namespaces: globs(s.namespaces),
    notNamespaces: globs(s.notNamespaces),
    // Fail closed on an unreadable entry: a DENY source then matches more, an ALLOW source less.
    ipBlocks: s.ipBlocks && new IpSet(s.ipBlocks, deny),
    notIpBlocks: s.notIpBlocks && new IpSet(s.notIpBlocks, !deny),
  };
}

function compileOperation(o: AuthzOperation): CompiledOperation {
  return {
    ports: o.ports,
    notPorts: o.notPorts,
    l7: o.methods !== undefined || o.paths !== undefined || o.notMethods !== undefined || o.notPaths !== undefined,
    methods: globs(o.methods),
    notMethods: globs(o.notMethods),
    paths: globs(o.paths),
    notPaths: globs(o.notPaths),
  };
}

function globs(list: readonly string[] | undefined): GlobSet | undefined {
  return list && new GlobSet(list);
}
