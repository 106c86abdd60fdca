import { isIP, type Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { WeftError } from '../../lib/errors/index.js';
import { LogThrottle } from '../../lib/telemetry/log-throttle.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { isLoopbackOrUnspecified } from '../../lib/self-target.js';

/** What is counted: a connection accepted on a pod listener, or a tunnel inside an HBONE session. */
export type LimitKind = 'outbound' | 'inbound-plain' | 'hbone-session' | 'hbone-tunnel';

export interface ConnectionLimitsOptions {
  /** Most connections one pod's listeners and tunnels hold at once (each holds at most two descriptors). */
  readonly perPod: number;
  /** Most connections one source IP holds at once across the node's pods. */
  readonly perSource: number;
  readonly registry: Registry;
  readonly log: Logger;
}

/**
 * Bounds the connections (and so the file descriptors) the agent holds per pod and per source IP. A
 * connection is counted from accept (before any upstream is opened, before the ready gate) until its
 * socket closes; one over a bound is reset at once, counted in `weft_agent_connection_limit_total` and
 * logged at most every 10 s per kind. Without it one client — or one loop — could take every descriptor
 * of the agent, and with them the mesh of every pod on the node.
 */
export class ConnectionLimits {
  private readonly pods = new Map<string, number>();
  private readonly sources = new Map<string, number>();
  private readonly hits: Counter<'scope' | 'kind'>;
  private readonly throttle: LogThrottle;

  constructor(private readonly o: ConnectionLimitsOptions) {
    this.hits = new Counter({
      name: 'weft_agent_connection_limit_total',
      help: 'Connections refused because a pod or a source held the most connections allowed (scope: pod|source)',
      labelNames: ['scope', 'kind'],
      registers: [o.registry],
    });
    this.throttle = new LogThrottle();
  }

  /**
   * Counts `socket` against pod `podUid` and its peer until it closes. Over a bound: resets it and
   * returns false.
   */
  admit(podUid: string, socket: Socket, kind: LimitKind): boolean {
    const release = this.acquire(podUid, socket.remoteAddress, kind);
    if (typeof release !== 'function') {
      socket.resetAndDestroy();
      return false;
    }
    socket.once('close', release);
    return true;
  }

  /** Takes one slot; the returned function gives it back (once). Over a bound: the refusal instead. */
  acquire(podUid: string, sourceIp: string | undefined, kind: LimitKind): (() => void) | WeftError {
    // Loopback peers are the pod itself (all pods share the address): counted as the pod's own source.
    const source = !sourceIp || isLoopbackOrUnspecified(sourceIp) ? `pod:${podUid}` : unmapped(sourceIp);
    const p = this.pods.get(podUid) ?? 0;
    const s = this.sources.get(source) ?? 0;
    if (p >= this.o.perPod) return this.refuse('pod', kind, podUid, this.o.perPod);
    if (s >= this.o.perSource) return this.refuse('source', kind, source, this.o.perSource);
    this.pods.set(podUid, p + 1);
    this.sources.set(source, s + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.pods, podUid);
      decrement(this.sources, source);
    };
  }

  /** Connections held now across every pod: a draining agent exits once this is 0. */
  get total(): number {
    let n = 0;
    for (const v of this.pods.values()) n += v;
    return n;
  }

  /** Connections held now, for a pod or a source (tests, admin). */
  held(scope: 'pod' | 'source', key: string): number {
    return (scope === 'pod' ? this.pods : this.sources).get(key) ?? 0;
  }

  private refuse(scope: 'pod' | 'source', kind: LimitKind, key: string, limit: number): WeftError {
    this.hits.labels(scope, kind).inc();
    const err = new WeftError('ERR_WEFT_AGENT_CONNECTION_LIMIT', { scope, key, limit, what: `new ${kind} connection` });
    const suppressed = this.throttle.due(`${scope}/${kind}`);
    if (suppressed !== undefined) this.o.log.warn({ code: err.code, scope, key, limit, kind, suppressed, hint: err.hint }, err.message);
    return err;
  }
}

function decrement(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 1) - 1;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}

function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
