import { codes, isWeftError, WeftError, type ErrorSpec } from '../../lib/errors/index.js';

/** The CNI error result (spec 1.0 §"Error"): printed on stdout with a non-zero exit code. */
export interface CniErrorResult {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details: string;
}

/**
 * Turns any failure into the CNI error JSON. A WeftError carries its CNI code in the error table; the
 * weft code name is put in `details` so logs and `kubectl describe pod` lead to docs/errors.md. Anything
 * else is a bug and reported as ERR_WEFT_CNI_INTERNAL.
 */
export function toCniError(err: unknown, cniVersion: string): CniErrorResult {
  const weft = isWeftError(err) ? err : new WeftError('ERR_WEFT_CNI_INTERNAL', { reason: err instanceof Error ? err.message : String(err) });
  const code = agentCniCode(weft) ?? weft.cni ?? codes.ERR_WEFT_CNI_INTERNAL.cni;
  const agentHint = typeof weft.params.agentHint === 'string' && weft.params.agentHint !== '' ? ` Agent: ${weft.params.agentHint}` : '';
  return { cniVersion, code, msg: weft.message, details: `${weft.code}: ${weft.hint}${agentHint}` };
}

/**
 * When the agent refused with a weft code that names its own CNI code in the shared table (e.g.
 * ERR_WEFT_AGENT_NOT_READY → 50), the runtime gets that code; otherwise 101 (ERR_WEFT_CNI_ENROLL_FAILED).
 */
function agentCniCode(err: WeftError): number | undefined {
  if (err.code !== 'ERR_WEFT_CNI_ENROLL_FAILED') return undefined;
  const agentCode = err.params.agentCode;
  if (typeof agentCode !== 'string' || !Object.hasOwn(codes, agentCode)) return undefined;
  return (codes[agentCode as keyof typeof codes] as ErrorSpec).cni;
}
