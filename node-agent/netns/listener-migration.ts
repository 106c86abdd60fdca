import type { Logger } from '../../lib/telemetry/log.js';
import { nativeNetns } from './native.js';

/**
 * Turns on net.ipv4.tcp_migrate_req in each pod's netns as it is enrolled, so that when a draining agent
 * closes its pod listeners, the connections still in their accept queues move to the successor's
 * listeners of the same SO_REUSEPORT group instead of being reset. Best effort: on a kernel before 5.14
 * (ENOENT) or with a read-only /proc/sys (an unprivileged container: EROFS) the drain still works, but a
 * connection queued at the instant a listener closes can be reset. Each failure kind is logged once.
 */
export class ListenerMigration {
  private readonly reported = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** True when the pod's netns now migrates queued connections. */
  enable(netns: string): boolean {
    try {
      nativeNetns().enableListenerMigration(netns);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (!this.reported.has(code)) {
        this.reported.add(code);
        this.log.warn(
          { err, netns, code },
          'cannot set net.ipv4.tcp_migrate_req in the pod netns (needs Linux 5.14+ and a writable /proc/sys, e.g. nodeAgent.privileged): a draining agent may reset connections still queued on its listeners',
        );
      }
      return false;
    }
  }
}
