import { Counter, type Registry } from 'prom-client';
import { WeftError } from '../../lib/errors/index.js';
import type { Workload } from '../../lib/model/index.js';
import type { ConnectionInfo } from './connections.js';

/**
 * Strict mTLS (ARCHITECTURE.md, "mTLS mode"): a workload whose effective `weft.dev/mtls-mode` is strict
 * accepts only mesh (HBONE) peers, so plaintext reaching its 15006 listener is refused before policy is
 * consulted — an ALLOW by ipBlocks cannot reopen it. The mode comes from the control plane on the
 * Workload; an unknown workload is not refused here (the caller refuses it for lack of identity).
 * Kubelet probes never reach 15006: capture exempts the node's probe source (NOTES.md, "Kubelet probes").
 */
export class StrictMtls {
  private readonly refusedTotal: Counter<'destination_workload' | 'destination_workload_namespace'>;

  constructor(registry: Registry) {
    this.refusedTotal = new Counter({
      name: 'weft_agent_plaintext_refused_total',
      help: 'Plaintext connections from outside the mesh refused because the destination workload is in strict mTLS mode',
      labelNames: ['destination_workload', 'destination_workload_namespace'],
      registers: [registry],
    });
  }

  /** The refusal for a plaintext connection `info` to `dst`, counted; undefined when permissive. */
  refusal(info: ConnectionInfo, dst: Workload): WeftError | undefined {
    if (dst.mtlsMode !== 'strict') return undefined;
    this.refusedTotal.inc({ destination_workload: dst.name, destination_workload_namespace: dst.namespace });
    return unauthenticated(info);
  }
}

/** ERR_WEFT_AGENT_UNAUTHENTICATED for a plaintext peer of a strict workload. */
export function unauthenticated(info: ConnectionInfo): WeftError {
  return new WeftError('ERR_WEFT_AGENT_UNAUTHENTICATED', {
    source: info.srcIp,
    destination: `${info.dstNamespace}/${info.dstWorkload} (${info.dst})`,
    reason: 'the destination is in strict mTLS mode (weft.dev/mtls-mode: strict) and accepts only mesh peers',
  });
}
