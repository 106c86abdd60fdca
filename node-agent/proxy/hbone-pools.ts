import type { ClientHttp2Stream } from 'node:http2';
import { isWeftError } from '../../lib/errors/index.js';
import { HbonePool, type HboneConnectRequest } from '../../lib/hbone/index.js';
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
      pool = new RetryOnceHbonePool({
        logger: this.log,
        socketFactory: {
          connect: (hop) => {
            const s = factory.connect(hop.host, hop.port);
            s.setNoDelay(true);
            // Pod sockets are half-open capable (apps half-close); an HBONE session is not: with it on, a
            // peer agent killed with SIGKILL (FIN, no TLS close) left the session open until the PING
            // timeout (20 s+) and every stream sent on it meanwhile timed out.
            s.allowHalfOpen = false;
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

  /** Root rotation: every pod's sessions whose server chains to none of `roots` close gracefully. */
  async closeUntrusted(roots: readonly string[]): Promise<number> {
    const closed = await Promise.all([...this.pools.values()].map((p) => p.closeUntrusted(roots)));
    return closed.reduce((a, b) => a + b, 0);
  }

  /** Closes every pod's sessions to `host` gracefully (open tunnels finish); returns how many. */
  closeTo(host: string): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.closeTo(host);
    return n;
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

/** Failures of a CONNECT before its response: no byte of the client's was sent, so a retry is safe. */
const BEFORE_RESPONSE: ReadonlySet<string> = new Set(['ERR_WEFT_HBONE_SESSION_CLOSED', 'ERR_WEFT_HBONE_STREAM_RESET']);

/**
 * A pool that retries a CONNECT once on a fresh session when its session died before the answer. A
 * peer agent killed with SIGKILL leaves a few ms in which new connections still get a stream on its
 * dead session; without the retry they failed although nothing had been sent yet.
 */
class RetryOnceHbonePool extends HbonePool {
  override async connect(request: HboneConnectRequest): Promise<ClientHttp2Stream> {
    try {
      return await super.connect(request);
    } catch (err) {
      if (!isWeftError(err) || !BEFORE_RESPONSE.has(err.code)) throw err;
      return super.connect(request);
    }
  }
}
