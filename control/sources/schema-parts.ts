import { z } from 'zod';
import { GATEWAY_DURATION } from '../../lib/gateway-duration.js';
import type { ObjectKind } from './source.js';

// The pieces every per-kind schema is made of (schemas.ts, gateway-schemas.ts): names as Kubernetes allows
// them, object metadata, label selectors, conditions, and the object envelope.

// ---------------------------------------------------------------------------------------------------
// Shared pieces

/** RFC 1123 subdomain (object names, namespaces); 253 chars max. */
export const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be an RFC 1123 subdomain');
/** RFC 1123 label (namespace names, Service names, section names); 63 chars max. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label');
export const port = z.number().int().min(1).max(65535);
export const stringMap = z.record(z.string(), z.string());
/** Gateway API Duration (GEP-2257): e.g. `10s`, `1h30m`, `500ms`. */
export const GatewayDurationSchema = z.string().regex(GATEWAY_DURATION, 'must be a Gateway API duration like 10s or 500ms');

export const OwnerReferenceSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

export const ObjectMetaSchema = z.looseObject({
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
  uid: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  ownerReferences: z.array(OwnerReferenceSchema).optional(),
});

export const LabelSelectorRequirementSchema = z.looseObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});
export const LabelSelectorSchema = z.looseObject({
  matchLabels: stringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** metav1.Condition, as used by every Gateway API status and by AuthorizationPolicy. */
export const ConditionSchema = z.looseObject({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.number().int().optional(),
  lastTransitionTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export function objectSchema<A extends string, K extends ObjectKind, S extends z.ZodType, T extends z.ZodType>(
  apiVersion: z.ZodType<A>,
  kind: K,
  spec: S,
  status: T,
) {
  return z.looseObject({
    apiVersion,
    kind: z.literal(kind),
    metadata: ObjectMetaSchema,
    spec,
    status,
  });
}
