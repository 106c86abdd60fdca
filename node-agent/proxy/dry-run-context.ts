import type { ConnectionInfo } from './connections.js';

/** The fields of a dry-run log line that say which connection it was (the access log's names). */
export function dryRunContext(info: ConnectionInfo): object {
  return {
    reporter: info.reporter,
    direction: info.direction,
    src: { ip: info.srcIp, workload: info.srcWorkload, namespace: info.srcNamespace, identity: info.srcIdentity },
    dst: { addr: info.dst, workload: info.dstWorkload, namespace: info.dstNamespace, identity: info.dstIdentity },
  };
}
