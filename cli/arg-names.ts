import { WeftError } from '../lib/errors/index.js';
import { validateLabName } from '../lab/names.js';
import { isName, nameRuleText, type NameRule } from '../lab/object-fields.js';

/**
 * yargs `coerce` functions for the names a command sends to Kubernetes or the lab: a name the API server
 * would refuse (or, in a lab, that would become a file name) is a usage error before anything is written.
 */
export function kubeNameArg(flag: string, what: string, rule: NameRule): (value: unknown) => string {
  return (value) => {
    if (isName(rule, value)) return value;
    throw new WeftError('ERR_WEFT_CLI_USAGE', { reason: `${flag} ${JSON.stringify(value)} is not a valid ${what}: it must be ${nameRuleText(rule)}` });
  };
}

/** A namespace name (RFC 1123 label), as -n/--namespace or a positional. */
export const namespaceArg = (flag: string): ((value: unknown) => string) => kubeNameArg(flag, 'namespace name', 'dns1123-label');

/** A lab name, by the lab's own rule (yargs reports it as a usage error with the lab's message). */
export function labNameArg(value: unknown): string {
  return validateLabName(String(value));
}
