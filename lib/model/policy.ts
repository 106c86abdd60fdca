import { z } from 'zod';

// A compiled `security.weft.dev/v1alpha1` AuthorizationPolicy. Principals are normalised to full SPIFFE
// IDs by the compiler (`ns/<ns>/sa/<sa>` gains `spiffe://<trust domain>/`), and again by the data planes'
// engine (lib/authz), which also reads policies from local config files that skip the compiler.

export const AuthzSourceSchema = z.object({
  principals: z.array(z.string()).optional(),
  notPrincipals: z.array(z.string()).optional(),
  namespaces: z.array(z.string()).optional(),
  notNamespaces: z.array(z.string()).optional(),
  /** CIDRs of the peer's source IP. */
  ipBlocks: z.array(z.string()).optional(),
  notIpBlocks: z.array(z.string()).optional(),
});
export type AuthzSource = z.infer<typeof AuthzSourceSchema>;

export const AuthzOperationSchema = z.object({
  ports: z.array(z.number().int().min(1).max(65535)).optional(),
  notPorts: z.array(z.number().int().min(1).max(65535)).optional(),
  /** L7 only: enforced by a waypoint. */
  methods: z.array(z.string()).optional(),
  /** L7 only: exact, `prefix*` or `*suffix`, as Istio. */
  paths: z.array(z.string()).optional(),
  notMethods: z.array(z.string()).optional(),
  notPaths: z.array(z.string()).optional(),
});
export type AuthzOperation = z.infer<typeof AuthzOperationSchema>;

export const AuthzRuleSchema = z.object({
  /** Any one entry matching is enough; empty or absent matches every source. */
  from: z.array(AuthzSourceSchema).default([]),
  /** Any one entry matching is enough; empty or absent matches every operation. */
  to: z.array(AuthzOperationSchema).default([]),
});
export type AuthzRule = z.infer<typeof AuthzRuleSchema>;

export const AuthzTargetSchema = z.discriminatedUnion('kind', [
  /** No selector and no targetRefs: every workload in the policy's namespace. */
  z.object({ kind: z.literal('namespace') }),
  z.object({ kind: z.literal('selector'), matchLabels: z.record(z.string(), z.string()) }),
  z.object({ kind: z.literal('service'), name: z.string() }),
  z.object({ kind: z.literal('gateway'), name: z.string() }),
]);
export type AuthzTarget = z.infer<typeof AuthzTargetSchema>;

export const AuthorizationPolicySchema = z.object({
  namespace: z.string().min(1),
  name: z.string().min(1),
  /** Several targetRefs compile to several targets; the policy applies if any matches. */
  targets: z.array(AuthzTargetSchema).default([{ kind: 'namespace' }]),
  action: z.enum(['ALLOW', 'DENY']).default('ALLOW'),
  /** ALLOW with no rules allows nothing; DENY with no rules denies nothing (Istio semantics). */
  rules: z.array(AuthzRuleSchema).default([]),
  /** `weft.dev/dry-run: "true"` (as Istio's `istio.io/dry-run`): evaluated, logged and counted as
   *  would-allow / would-deny, never enforced. */
  dryRun: z.boolean().optional(),
});
export type AuthorizationPolicy = z.infer<typeof AuthorizationPolicySchema>;
