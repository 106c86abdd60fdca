import { BlockList, isIPv6 } from 'node:net';
import type { AuthorizationPolicy, AuthzOperation, AuthzRule, AuthzSource } from '../lib/model/index.js';

// L7 authorization at the waypoint with Istio's semantics: policies that target this waypoint's Gateway
// or the destination Service apply; any matching DENY policy denies; otherwise, if any ALLOW policy
// applies, at least one must match or the request is denied; with no ALLOW policy the request is allowed.
// An ALLOW policy without rules matches nothing (allow-nothing). Within a rule `from` and `to` must both
// hold; within each list one entry is enough; within an entry every field set must hold.
// Values support Istio's `*`, `prefix*` and `*suffix` forms.

export interface AuthzRequest {
  /** SPIFFE ID of the client: the HBONE peer of the tunnel (the client pod's own certificate). */
  readonly principal: string | undefined;
  readonly sourceIp: string | undefined;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The Service port the request was addressed to. */
  readonly port: number;
}

export type AuthzDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: AuthzDecision = { allowed: true };

function glob(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

function anyGlob(patterns: readonly string[] | undefined, value: string | undefined): boolean {
  if (value === undefined) return false;
  for (const p of patterns!) if (glob(p, value)) return true;
  return false;
}

/** Namespace of a SPIFFE ID `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export function namespaceOf(principal: string | undefined): string | undefined {
  if (!principal) return undefined;
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(principal);
  return m ? m[1] : undefined;
}

function inBlocks(cidrs: readonly string[], ip: string | undefined): boolean {
  if (!ip) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
}

function sourceMatches(s: AuthzSource, req: AuthzRequest): boolean {
  const ns = namespaceOf(req.principal);
  if (s.principals && !anyGlob(s.principals, req.principal)) return false;
  if (s.notPrincipals && req.principal !== undefined && anyGlob(s.notPrincipals, req.principal)) return false;
  if (s.namespaces && !anyGlob(s.namespaces, ns)) return false;
  if (s.notNamespaces && ns !== undefined && anyGlob(s.notNamespaces, ns)) return false;
  if (s.ipBlocks && !inBlocks(s.ipBlocks, req.sourceIp)) return false;
  if (s.notIpBlocks && inBlocks(s.notIpBlocks, req.sourceIp)) return false;
  return true;
}

function operationMatches(o: AuthzOperation, req: AuthzRequest): boolean {
  if (o.ports && !o.ports.includes(req.port)) return false;
  if (o.notPorts && o.notPorts.includes(req.port)) return false;
  if (o.methods && !anyGlob(o.methods, req.method)) return false;
  if (o.notMethods && anyGlob(o.notMethods, req.method)) return false;
  if (o.paths && !anyGlob(o.paths, req.path)) return false;
  if (o.notPaths && anyGlob(o.notPaths, req.path)) return false;
  return true;
}

function ruleMatches(r: AuthzRule, req: AuthzRequest): boolean {
  if (r.from.length > 0 && !r.from.some((s) => sourceMatches(s, req))) return false;
  if (r.to.length > 0 && !r.to.some((o) => operationMatches(o, req))) return false;
  return true;
}

/** Policies of `namespace` that apply at this waypoint for the given destination Service. */
export function applicablePolicies(
  policies: readonly AuthorizationPolicy[],
  gateway: { namespace: string; name: string },
  service: { namespace: string; name: string },
): AuthorizationPolicy[] {
  return policies.filter((p) =>
    p.targets.some(
      (t) =>
        (t.kind === 'gateway' && p.namespace === gateway.namespace && t.name === gateway.name) ||
        (t.kind === 'service' && p.namespace === service.namespace && t.name === service.name),
    ),
  );
}

export function authorize(policies: readonly AuthorizationPolicy[], req: AuthzRequest): AuthzDecision {
  if (policies.length === 0) return ALLOWED;
  let anyAllow = false;
  for (const p of policies) {
    if (p.action !== 'DENY') continue;
    for (const r of p.rules) if (ruleMatches(r, req)) return { allowed: false, reason: `DENY policy ${p.namespace}/${p.name} matched` };
  }
  for (const p of policies) {
    if (p.action !== 'ALLOW') continue;
    anyAllow = true;
    for (const r of p.rules) if (ruleMatches(r, req)) return ALLOWED;
  }
  return anyAllow ? { allowed: false, reason: 'no ALLOW policy matched' } : ALLOWED;
}
