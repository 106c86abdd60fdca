import type { AuthzRuleSpec } from '../sources/schemas.js';

// AuthorizationPolicy fields weft does not implement (Istio's `when`, `requestPrincipals`, `hosts`,
// `remoteIpBlocks`, a misspelt key, ...). Ignoring them would widen an ALLOW or narrow a DENY; refusing the
// whole policy would leave a DENY unenforced (fail open). Istio's answer for conditions a proxy cannot
// evaluate, followed here: a DENY rule is enforced as if every unsupported condition matched (the rule
// keeps its supported conditions, so it denies at least what was asked), an ALLOW rule with one never
// matches (it allows at most what was asked). Either way the policy fails closed, and its status says so.

const RULE_FIELDS = new Set(['from', 'to']);
const FROM_FIELDS = new Set(['source']);
const TO_FIELDS = new Set(['operation']);
const SOURCE_FIELDS = new Set(['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks']);
const OPERATION_FIELDS = new Set(['ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths']);

/** Paths of the unsupported fields of one rule, e.g. `when`, `from[0].source.requestPrincipals`. */
export function unsupportedRuleFields(rule: AuthzRuleSpec): string[] {
  const out: string[] = [];
  const extra = (obj: object, known: ReadonlySet<string>, prefix: string): void => {
    for (const k of Object.keys(obj)) if (!known.has(k)) out.push(`${prefix}${k}`);
  };
  extra(rule, RULE_FIELDS, '');
  (rule.from ?? []).forEach((f, i) => {
    extra(f, FROM_FIELDS, `from[${i}].`);
    extra(f.source, SOURCE_FIELDS, `from[${i}].source.`);
  });
  (rule.to ?? []).forEach((t, i) => {
    extra(t, TO_FIELDS, `to[${i}].`);
    extra(t.operation, OPERATION_FIELDS, `to[${i}].operation.`);
  });
  return out;
}

/** Every unsupported field of a policy's rules, as `rules[i].<path>`. */
export function unsupportedPolicyFields(rules: readonly AuthzRuleSpec[] | undefined): string[] {
  return (rules ?? []).flatMap((r, i) => unsupportedRuleFields(r).map((f) => `rules[${i}].${f}`));
}

/**
 * The rules to enforce: ALLOW drops rules with unsupported fields; DENY keeps them, and since the compiler
 * only copies the fields it knows, their unsupported conditions are dropped — treated as matching.
 */
export function enforceableRules(action: 'ALLOW' | 'DENY', rules: readonly AuthzRuleSpec[] | undefined): AuthzRuleSpec[] {
  const all = rules ?? [];
  return action === 'DENY' ? [...all] : all.filter((r) => unsupportedRuleFields(r).length === 0);
}

/** The status message for a policy with unsupported fields. */
export function unsupportedFieldsMessage(action: 'ALLOW' | 'DENY', fields: readonly string[]): string {
  const shown = fields.length > 8 ? [...fields.slice(0, 8), `and ${fields.length - 8} more`] : fields;
  const effect =
    action === 'DENY'
      ? 'DENY rules with them are enforced as if those conditions matched (they deny more than asked)'
      : 'ALLOW rules with them never match (they allow less than asked)';
  return `weft does not support ${shown.join(', ')}; ${effect} — fail closed, as Istio does`;
}
