import { WeftError } from '../../lib/errors/index.js';

/** The Kubernetes pod identity the runtime passes in CNI_ARGS (`K8S_POD_NAMESPACE=..;K8S_POD_NAME=..`). */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * Parses CNI_ARGS ("FOO=BAR;ABC=123", CNI spec 1.0 §2) into a map. A pair without `=` is an invalid
 * environment (code 4), as in the reference plugins' `LoadArgs`; empty segments (a trailing `;`) are
 * tolerated because runtimes produce them.
 */
export function parseCniArgs(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === undefined || raw === '') return out;
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new WeftError('ERR_WEFT_CNI_ENV_INVALID', { reason: `CNI_ARGS pair "${pair.slice(0, 64)}" is not KEY=VALUE` });
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** The pod named by CNI_ARGS, or undefined when the container is not a Kubernetes pod. */
export function podRefOf(args: Map<string, string>): PodRef | undefined {
  const namespace = args.get('K8S_POD_NAMESPACE') ?? '';
  const name = args.get('K8S_POD_NAME') ?? '';
  if (namespace === '' || name === '') return undefined;
  return { namespace, name, uid: args.get('K8S_POD_UID') ?? '' };
}
