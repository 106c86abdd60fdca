import type { z } from 'zod';
import {
  AuthorizationPolicySpecSchema,
  AuthorizationPolicyStatusSchema,
  ObjectMetaSchema,
  validateObject,
  type AuthorizationPolicyObject,
} from './schemas.js';
import type { KubeObject } from './source.js';

// An AuthorizationPolicy that fails validation used to be skipped, so an invalid DENY denied nothing (fail
// open). Both sources now serve such a policy in its fail-closed form instead (ARCHITECTURE.md: "a policy
// the control plane cannot read ... fails closed"), a valid object that the compiler enforces like any
// other and the status marks as Invalid:
// - DENY (or an action weft does not know, or a spec that is not an object): one rule that matches
//   everything, so it denies all traffic to what it selects;
// - ALLOW (written, or Istio's default when the spec names no action): no rules, so it allows nothing;
// - what it selects is kept when its selector and targetRefs read; when either does not, the policy
//   applies to its whole namespace (it cannot be told which workloads the author meant).
// The mark is a symbol-keyed property: it survives `{...object}` copies (the directory source merges status
// files that way) but cannot come from YAML/JSON and never goes on the wire.

const UNREADABLE = Symbol.for('weft.authz.unreadable');

export interface UnreadablePolicy {
  /** Why validation failed (the schema's words). */
  readonly reason: string;
  /** How it is enforced. */
  readonly action: 'ALLOW' | 'DENY';
  /** True when `action` is DENY because the written action was not ALLOW or DENY (or the spec not an object). */
  readonly actionUnread: boolean;
  /** `selected`: its selector/targetRefs were read and kept; `namespace`: they were not, it applies to its namespace. */
  readonly scope: 'selected' | 'namespace';
}

/** The fail-closed mark of a policy the sources could not read; undefined for a readable one. */
export function unreadableOf(ap: KubeObject): UnreadablePolicy | undefined {
  return (ap as unknown as { [UNREADABLE]?: UnreadablePolicy })[UNREADABLE];
}

const TargetsSchema = AuthorizationPolicySpecSchema.pick({ targetRefs: true, selector: true });

/**
 * The fail-closed stand-in for a raw AuthorizationPolicy that failed validation with `reason`, or undefined
 * when not even its name/namespace can be read (nothing to tie it to: it stays skipped and reported).
 * `defaultNamespace` is the directory source's namespace for objects written without one.
 */
export function failClosedPolicy(raw: unknown, reason: string, defaultNamespace?: string): AuthorizationPolicyObject | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as { metadata?: unknown; spec?: unknown; status?: unknown };
  const metadata = readMetadata(r.metadata, defaultNamespace);
  if (metadata === undefined) return undefined;

  const spec = typeof r.spec === 'object' && r.spec !== null && !Array.isArray(r.spec) ? (r.spec as Record<string, unknown>) : undefined;
  const written = spec?.action;
  const action: 'ALLOW' | 'DENY' = spec !== undefined && (written === 'ALLOW' || written === undefined) ? 'ALLOW' : 'DENY';
  const targets = spec === undefined ? undefined : TargetsSchema.safeParse({ targetRefs: spec.targetRefs, selector: spec.selector });
  const scope = targets?.success === true ? 'selected' : 'namespace';
  const status = AuthorizationPolicyStatusSchema.safeParse(r.status);

  const candidate = {
    apiVersion: 'security.weft.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata,
    spec: {
      ...(targets?.success === true ? stripUndefined(targets.data) : {}),
      action,
      // A DENY rule with no `from`/`to` matches every request; an ALLOW with no rules matches none.
      rules: action === 'DENY' ? [{}] : [],
    },
    ...(status.success && status.data !== undefined ? { status: status.data } : {}),
  };
  const v = validateObject(candidate, { defaultNamespace });
  if (!v.ok) return undefined; // cannot happen for metadata that read; kept so only valid objects are served
  const actionUnread = !(spec !== undefined && (written === 'ALLOW' || written === 'DENY' || written === undefined));
  const mark: UnreadablePolicy = { reason, action, actionUnread, scope };
  Object.defineProperty(v.object, UNREADABLE, { value: mark, enumerable: true });
  return v.object as unknown as AuthorizationPolicyObject;
}

/** The status message of a policy served in its fail-closed form. */
export function unreadableMessage(u: UnreadablePolicy, namespace: string): string {
  const what = u.scope === 'selected' ? 'what it selects' : `every workload in namespace ${namespace} (its selector/targetRefs cannot be read)`;
  const effect =
    u.action === 'DENY'
      ? `denies all traffic to ${what}${u.actionUnread ? ', since its action is not ALLOW or DENY' : ''}`
      : `allows nothing: ${what} accepts only what other ALLOW policies allow`;
  return `invalid policy (${u.reason}); enforced fail closed: it ${effect}. Fix the policy to enforce it as written.`;
}

/** name (and namespace) must read as they would in a valid object; the rest of metadata is kept if it reads. */
function readMetadata(meta: unknown, defaultNamespace: string | undefined): z.infer<typeof ObjectMetaSchema> | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const whole = ObjectMetaSchema.safeParse(meta);
  const m = meta as Record<string, unknown>;
  const picked = ObjectMetaSchema.safeParse({
    name: m.name,
    namespace: m.namespace ?? defaultNamespace,
    ...(typeof m.uid === 'string' ? { uid: m.uid } : {}),
    ...(typeof m.resourceVersion === 'string' ? { resourceVersion: m.resourceVersion } : {}),
    ...(Number.isInteger(m.generation) ? { generation: m.generation } : {}),
  });
  if (!picked.success) return undefined;
  if (whole.success) return { ...whole.data, namespace: whole.data.namespace ?? picked.data.namespace };
  return picked.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
