import type { AuthorizationPolicy, AuthzRule, AuthzTarget } from '../../lib/model/index.js';
import { normalisePrincipal } from '../../lib/authz/principal.js';
import type { AuthorizationPolicyObject } from '../sources/schemas.js';
import { enforceableRules } from './authz-unsupported.js';

/** Marks a policy to be evaluated, logged and counted but not enforced (Istio's `istio.io/dry-run`). */
export const DRY_RUN_ANNOTATION = 'weft.dev/dry-run';

/**
 * An AuthorizationPolicy object → the policy the data planes enforce: targets (Services, Gateways, a pod
 * selector, or the whole namespace), principals as full SPIFFE IDs, ports as numbers. Unsupported fields
 * fail closed (authz-unsupported.ts): only the known fields below are copied.
 */
export function authorizationPolicyOf(p: AuthorizationPolicyObject, trustDomain: string): AuthorizationPolicy {
  const ns = p.metadata.namespace ?? '';
  const targets: AuthzTarget[] = [];
  for (const t of p.spec.targetRefs ?? []) {
    if (t.kind === 'Service') targets.push({ kind: 'service', name: t.name });
    else if (t.kind === 'Gateway') targets.push({ kind: 'gateway', name: t.name });
  }
  if (p.spec.selector?.matchLabels && Object.keys(p.spec.selector.matchLabels).length > 0) {
    targets.push({ kind: 'selector', matchLabels: p.spec.selector.matchLabels });
  }
  if (targets.length === 0 && !p.spec.targetRefs?.length) targets.push({ kind: 'namespace' });
  const ports = (list: (number | string)[] | undefined): number[] | undefined => list?.map(Number);
  const action = p.spec.action ?? 'ALLOW';
  const rules: AuthzRule[] = enforceableRules(action, p.spec.rules).map((r) => ({
    from: (r.from ?? []).map(({ source: s }) => ({
      principals: s.principals?.map((x) => normalisePrincipal(x, trustDomain)),
      notPrincipals: s.notPrincipals?.map((x) => normalisePrincipal(x, trustDomain)),
      namespaces: s.namespaces,
      notNamespaces: s.notNamespaces,
      ipBlocks: s.ipBlocks,
      notIpBlocks: s.notIpBlocks,
    })),
    to: (r.to ?? []).map(({ operation: o }) => ({
      ports: ports(o.ports),
      notPorts: ports(o.notPorts),
      methods: o.methods,
      paths: o.paths,
      notMethods: o.notMethods,
      notPaths: o.notPaths,
    })),
  }));
  const dryRun = p.metadata.annotations?.[DRY_RUN_ANNOTATION] === 'true';
  // JSON round trip drops the undefined fields so fingerprints and the wire agree.
  return JSON.parse(JSON.stringify({ namespace: ns, name: p.metadata.name, targets, action, rules, dryRun: dryRun || undefined })) as AuthorizationPolicy;
}
