import type { ClientHttp2Stream } from 'node:http2';
import { isWeftError } from '../../lib/errors/index.js';
import type { HboneConnectRequest, HbonePool } from '../../lib/hbone/index.js';
import type { Service, StateView, WaypointRef } from '../../lib/model/index.js';
import { HBONE_PORT } from '../../lib/names.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { PeakEwmaBalancer } from './p2c.js';

// A waypoint runs as several replicas behind its Service (issue 13 item 5). The agent tunnels to a
// replica's pod IP, not to the Service VIP: a VIP hides which replica a pooled session went to, so one
// dead replica cost every new connection until kube-proxy (or the lab's nftables) caught up, and all of
// a pod's streams shared one replica. Here the agent picks a ready replica itself (P2C over peak-EWMA,
// keyed `ip:15008`), fails a new connection over to another replica when its connect fails, and closes
// pooled sessions to a replica that discovery no longer lists as ready.

/** Errors of a connect that reached no waypoint (nothing of the client's was sent): try another replica. */
const FAIL_OVER: ReadonlySet<string> = new Set([
  'ERR_WEFT_HBONE_CONNECT_FAILED',
  'ERR_WEFT_HBONE_TIMEOUT',
  'ERR_WEFT_HBONE_SESSION_CLOSED',
  'ERR_WEFT_HBONE_STREAM_RESET',
  'ERR_WEFT_HBONE_TLS_HANDSHAKE',
]);

/** Balancer key of a waypoint replica. */
export function hopKey(address: string): string {
  return `${address}:${HBONE_PORT}`;
}

/** Whether a Service is a waypoint's own (the controller gives it one port: 15008, appProtocol hbone). */
function isWaypointService(s: Service): boolean {
  return s.ports.some((p) => p.port === HBONE_PORT && p.appProtocol === 'hbone');
}

/**
 * Where HBONE to waypoint `w` may go, best first: the ready replicas of its Service (P2C picks the first,
 * the others follow for fail-over of the same connection); its address itself when discovery knows no
 * ready replica (a local config, or a waypoint addressed by pod IP). A replica not ready is never picked.
 */
export function waypointHops(view: StateView, balancer: PeakEwmaBalancer, w: WaypointRef): [string, ...string[]] {
  const svc = view.serviceByVip(w.address);
  if (svc === undefined || svc.namespace !== w.namespace || !isWaypointService(svc)) return [w.address];
  const ready = svc.endpoints.filter((e) => e.ready).map((e) => e.address);
  if (ready.length === 0) return [w.address];
  const first = balancer.pick(ready, hopKey)!;
  return [first, ...ready.filter((a) => a !== first)];
}

/**
 * Opens a tunnel through the first of `hops` that answers. A hop whose connect fails before any answer
 * (refused, reset, timeout, session gone) is counted as a slow sample for the balancer and the next hop
 * is tried; an answer (a refusal, a TLS identity mismatch) is final. With another hop left, a hop gets one
 * session attempt instead of the pool's backoff retries.
 */
export async function connectFailover(
  pool: HbonePool,
  request: Omit<HboneConnectRequest, 'nextHop' | 'connectAttempts'>,
  hops: readonly string[],
  options: { balancer: PeakEwmaBalancer; port?: number; onFailover?: (hop: string, err: unknown) => void },
): Promise<ClientHttp2Stream> {
  for (let i = 0; ; i++) {
    const host = hops[i];
    const last = i === hops.length - 1;
    const done = options.balancer.start(hopKey(host));
    try {
      const stream = await pool.connect({ ...request, nextHop: { host, port: options.port ?? HBONE_PORT }, ...(last ? {} : { connectAttempts: 1 }) });
      done(true);
      return stream;
    } catch (err) {
      done(false);
      if (last || !isWeftError(err) || !FAIL_OVER.has(err.code)) throw err;
      options.onFailover?.(host, err);
    }
  }
}

/** Pod IPs of the ready replicas of every waypoint Service. */
function readyReplicas(view: StateView): Set<string> {
  const out = new Set<string>();
  for (const s of view.services()) {
    if (!isWaypointService(s)) continue;
    for (const e of s.endpoints) if (e.ready) out.add(e.address);
  }
  return out;
}

/**
 * Closes pooled sessions to a waypoint replica once discovery stops listing it as ready (a replica that
 * died mostly closes its own sessions; one that turned unready, or a node gone silent, would otherwise
 * keep taking new streams until the keep-alive PING timed out).
 */
export class WaypointReplicaEviction {
  private ready: Set<string>;

  constructor(
    private readonly view: StateView,
    private readonly evict: (host: string) => number,
    private readonly log: Logger,
  ) {
    this.ready = readyReplicas(view);
  }

  /** Call on every view change that includes Services. */
  update(): void {
    const now = readyReplicas(this.view);
    for (const a of this.ready) {
      if (now.has(a)) continue;
      const closed = this.evict(a);
      if (closed > 0) this.log.info({ replica: a, sessions: closed }, 'closed HBONE sessions to a waypoint replica that is no longer ready');
    }
    this.ready = now;
  }
}
