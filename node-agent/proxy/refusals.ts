import { WeftError, isWeftError } from '../../lib/errors/index.js';

// The refusals more than one of the agent's proxy paths (outbound, inbound HBONE, inbound plaintext) makes,
// built in one place so that each carries the same code, flag and wording in the access log.

/** The pod's Workload (and so its identity) is not in cluster state yet: an agent restart, a new pod. */
export function workloadUnknown(pod: { readonly namespace: string; readonly name: string }): WeftError {
  return new WeftError('ERR_WEFT_AGENT_IDENTITY', { identity: `pod ${pod.namespace}/${pod.name}`, reason: 'workload not known yet' });
}

/** A connection to `address` failed; a coded error keeps its own code and flag. */
export function connectFailed(address: string, err: unknown): WeftError {
  if (isWeftError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address, reason }, { cause: err });
}
