import { BlockList, isIPv6 } from 'node:net';
import type { AuthorizationPolicy, AuthzOperation, AuthzRule, AuthzSource, StateView, Workload } from '../lib/model/index.js';

/** What the destination agent knows about a connection when it decides. */
export interface AuthzRequest {
  /** The peer's SPIFFE ID from its certificate; undefined for a plaintext (15006) peer. */
  readonly sourceIdentity: string | undefined;
  readonly sourceIp: string;
  /** Destination port on the pod (the app port). */
  readonly port: number;
}

export interface AuthzDecision {
  readonly allowed: boolean;
  /** `<ns>/<name>` of the deciding policy (DENY match, or the ALLOW set when nothing matched). */
  readonly policy: string | undefined;
  readonly reason: string;
}

const ALLOW_DEFAULT: AuthzDecision = Object.freeze({ allowed: true, policy: undefined, reason: 'no policy' });

/**
 * L4 authorization with Istio's semantics: any DENY match denies; with no ALLOW policy everything else
 * is allowed; otherwise the connection is allowed iff some ALLOW rule matches. L7-only fields (methods,
 * paths) cannot be checked here: an ALLOW rule carrying one never matches, a DENY rule carrying one
 * matches on its L4 part alone (fail closed).
 */
export function authorize(policies: readonly AuthorizationPolicy[], req: AuthzRequest): AuthzDecision {
  let allowPolicies = 0;
  let allowed: AuthorizationPolicy | undefined;
  for (const p of policies) {
    if (p.action === 'DENY') {
      if (p.rules.some((r) => ruleMatches(r, req, true))) {
        return { allowed: false, policy: `${p.namespace}/${p.name}`, reason: 'DENY policy matched' };
      }
    } else {
      allowPolicies++;
      if (!allowed && p.rules.some((r) => ruleMatches(r, req, false))) allowed = p;
    }
  }
  if (allowPolicies === 0) return ALLOW_DEFAULT;
  if (allowed) return { allowed: true, policy: `${allowed.namespace}/${allowed.name}`, reason: 'ALLOW policy matched' };
  const names = policies.filter((p) => p.action === 'ALLOW').map((p) => `${p.namespace}/${p.name}`);
  return { allowed: false, policy: names.join(','), reason: 'no ALLOW policy matched' };
}

/** The policies that apply to a workload: its namespace's, filtered by each policy's targets. */
export function policiesFor(view: StateView, workload: Workload): AuthorizationPolicy[] {
  return view.policiesIn(workload.namespace).filter((p) => p.targets.some((t) => {
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
  }));
}

function ruleMatches(rule: AuthzRule, req: AuthzRequest, deny: boolean): boolean {
  const fromOk = rule.from.length === 0 || rule.from.some((s) => sourceMatches(s, req));
  if (!fromOk) return false;
  return rule.to.length === 0 || rule.to.some((o) => operationMatches(o, req, deny));
}

function sourceMatches(s: AuthzSource, req: AuthzRequest): boolean {
  const id = req.sourceIdentity;
  if (s.principals && !(id !== undefined && s.principals.some((p) => principalMatches(p, id)))) return false;
  if (s.notPrincipals && id !== undefined && s.notPrincipals.some((p) => principalMatches(p, id))) return false;
  const ns = id === undefined ? undefined : namespaceOf(id);
  if (s.namespaces && !(ns !== undefined && s.namespaces.some((n) => stringMatches(n, ns)))) return false;
  if (s.notNamespaces && ns !== undefined && s.notNamespaces.some((n) => stringMatches(n, ns))) return false;
  if (s.ipBlocks && !blockListOf(s.ipBlocks).check(req.sourceIp, family(req.sourceIp))) return false;
  if (s.notIpBlocks && blockListOf(s.notIpBlocks).check(req.sourceIp, family(req.sourceIp))) return false;
  return true;
}

function operationMatches(o: AuthzOperation, req: AuthzRequest, deny: boolean): boolean {
  const l7 = o.methods !== undefined || o.paths !== undefined || o.notMethods !== undefined || o.notPaths !== undefined;
  if (l7 && !deny) return false;
  if (o.ports && !o.ports.includes(req.port)) return false;
  if (o.notPorts?.includes(req.port)) return false;
  return true;
}

/** Principals compare with or without the `spiffe://` scheme; `*`, `prefix*` and `*suffix` as Istio. */
function principalMatches(pattern: string, id: string): boolean {
  const bare = id.startsWith('spiffe://') ? id.slice(9) : id;
  const p = pattern.startsWith('spiffe://') ? pattern.slice(9) : pattern;
  return stringMatches(p, bare);
}

function stringMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const NS_RE = /\/ns\/([^/]+)\/sa\//;
function namespaceOf(id: string): string | undefined {
  return NS_RE.exec(id)?.[1];
}

const family = (ip: string): 'ipv4' | 'ipv6' => (isIPv6(ip) ? 'ipv6' : 'ipv4');

// Policies are immutable objects from the store: compile each CIDR list once.
const blockLists = new WeakMap<readonly string[], BlockList>();
function blockListOf(cidrs: readonly string[]): BlockList {
  let bl = blockLists.get(cidrs);
  if (!bl) {
    bl = new BlockList();
    for (const c of cidrs) {
      const [ip, len] = c.split('/');
      const f = family(ip);
      if (len === undefined) bl.addAddress(ip, f);
      else bl.addSubnet(ip, Number(len), f);
    }
    blockLists.set(cidrs, bl);
  }
  return bl;
}
