// How a policy names a principal (ARCHITECTURE.md, "Authorization"): a SPIFFE ID
// `spiffe://<trust domain>/ns/<ns>/sa/<sa>`, or `ns/<ns>/sa/<sa>` in the local trust domain; Istio's
// `<trust domain>/ns/<ns>/sa/<sa>` is read too. Each may use Istio's `*`, `prefix*` or `*suffix`.
// Every form is turned into a pattern over the full SPIFFE ID once, when the policy is compiled, so a
// peer's ID is compared as it comes from its certificate.

/** The pattern over full SPIFFE IDs that a policy's principal stands for. */
export function normalisePrincipal(pattern: string, trustDomain: string): string {
  // `*` alone and `*suffix` already match the end of a full ID.
  if (pattern.startsWith('spiffe://') || pattern.startsWith('*')) return pattern;
  if (pattern.startsWith('ns/')) return `spiffe://${trustDomain}/${pattern}`;
  // Istio's form: the ID without its scheme (`cluster.local/ns/a/sa/b`, `cluster.local/ns/a/*`).
  return `spiffe://${pattern}`;
}

const SPIFFE_NS = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/;

/** Namespace of a SPIFFE ID `spiffe://<td>/ns/<ns>/sa/<sa>`; undefined for anything else. */
export function namespaceOfPrincipal(principal: string | undefined): string | undefined {
  if (principal === undefined) return undefined;
  return SPIFFE_NS.exec(principal)?.[1];
}
