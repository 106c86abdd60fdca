import { HbonePool } from '../../lib/hbone/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { SocketFactory } from '../netns/socket-factory.js';

/**
 * One lib/hbone client pool per enrolled pod: its sessions' sockets come from that pod's netns (with the
 * agent's mark), so tunnels leave from the pod's own IP, and two pods with the same service account
 * never share a session. A pod's pool is closed when the pod leaves.
 */
export class HbonePools {
  private readonly pools = new Map<string, HbonePool>();

  constructor(private readonly log: Logger) {}

  /** The pool of pod `uid`, created on first use with the pod's socket factory. */
  forPod(uid: string, factory: SocketFactory): HbonePool {
    let pool = this.pools.get(uid);
    if (pool === undefined) {
      pool = new HbonePool({
        logger: this.log,
        socketFactory: {
          connect: (hop) => {
            const s = factory.connect(hop.host, hop.port);
            s.setNoDelay(true);
            return s;
          },
        },
      });
      this.pools.set(uid, pool);
    }
    return pool;
  }

  /** Closes one pod's sessions (it was released), or every pool (agent shutdown). */
  close(uid?: string): void {
    for (const [key, pool] of this.pools) {
      if (uid !== undefined && key !== uid) continue;
      pool.close({ force: true });
      this.pools.delete(key);
    }
  }

  stats(): { sessions: number; streams: number } {
    let sessions = 0;
    let streams = 0;
    for (const pool of this.pools.values()) {
      const s = pool.stats();
      sessions += s.sessions;
      streams += s.streams;
    }
    return { sessions, streams };
  }
}
