import { WeftError } from '../lib/errors/index.js';

/**
 * Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation) for names weft's CLI takes as
 * arguments (`weft lab exec <ns>/<pod>`, --lab, -n): they become netns, process and file names, so a `..`
 * or `/` is refused before it reaches the file system.
 */
export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const RULES: Record<NameRule, { readonly re: RegExp; readonly max: number; readonly text: string }> = {
  'dns1123-label': {
    re: new RegExp(`^${LABEL}$`),
    max: 63,
    text: 'an RFC 1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
  },
  'dns1123-subdomain': {
    re: new RegExp(`^${LABEL}(\\.${LABEL})*$`),
    max: 253,
    text: 'an RFC 1123 subdomain: at most 253 characters, "."-separated labels of lowercase letters, digits and "-", each starting and ending with a letter or digit',
  },
  'dns1035-label': {
    re: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    text: 'an RFC 1035 label: at most 63 lowercase letters, digits and "-", starting with a letter and ending with a letter or digit',
  },
};

export function isName(rule: NameRule, value: unknown): value is string {
  const r = RULES[rule];
  return typeof value === 'string' && value.length <= r.max && r.re.test(value);
}

export function nameRuleText(rule: NameRule): string {
  return RULES[rule].text;
}

/** A refusal naming the field, the value and what is allowed (exit 2 at the CLI). */
export function fieldError(source: string, field: string, value: unknown, rule: string): WeftError {
  const shown = value === undefined ? '(missing)' : (JSON.stringify(value) ?? typeof value);
  return new WeftError('ERR_WEFT_LAB_FIELD_INVALID', { source, field, value: shown.length > 120 ? `${shown.slice(0, 117)}...` : shown, rule });
}
