import { H1Pool } from './h1-pool.js';
import { H2Client } from './h2-client.js';
import type { Connector, UpstreamEndpoint } from '../transport/connector.js';
import type { UpstreamCallback, UpstreamRequest } from './exchange.js';

// Connections to endpoints, one entry per endpoint: the waypoint's own HTTP/1.1 pool (h1-pool.ts, over
// the connector's streams, i.e. HBONE tunnels) and one HTTP/2 session for h2/gRPC. Both are created
// lazily and dropped when the endpoint leaves the Service.

export type { UpstreamCallback, UpstreamRequest, UpstreamResponse } from './exchange.js';
export type UpstreamProtocol = 'http1' | 'h2';

const H1_CONNECTIONS = 256;
const H1_IDLE_TIMEOUT_MS = 30_000;
const SWEEP_INTERVAL_MS = 5_000;

/** Clients per endpoint and protocol. */
export class UpstreamClients {
  private readonly h1 = new Map<string, H1Pool>();
  private readonly h2 = new Map<string, H2Client>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly connector: Connector) {
    // Idle HTTP/1.1 connections are closed after 30 s by one timer for all pools, not one per socket.
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const p of this.h1.values()) p.sweep(now);
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /**
   * Sends `req` to `endpoint`, whose `key` is `address:port` (the balancer entry's, made once per state
   * change: a key built here per request cost a string flatten and hash each); `cb` gets the response head
   * or the error, exactly once.
   */
  request(protocol: UpstreamProtocol, key: string, endpoint: UpstreamEndpoint, req: UpstreamRequest, cb: UpstreamCallback): void {
    if (protocol === 'h2') {
      let c = this.h2.get(key);
      if (!c) this.h2.set(key, (c = new H2Client(endpoint, this.connector)));
      c.request(req, cb);
      return;
    }
    let c = this.h1.get(key);
    if (!c) this.h1.set(key, (c = new H1Pool(endpoint, this.connector, { maxConnections: H1_CONNECTIONS, idleTimeoutMs: H1_IDLE_TIMEOUT_MS })));
    c.request(req, cb);
  }

  /** Closes clients of endpoints not in `keep` (keys `address:port`). */
  retain(keep: ReadonlySet<string>): void {
    for (const m of [this.h1, this.h2] as Map<string, H1Pool | H2Client>[]) {
      for (const [k, c] of m) {
        if (!keep.has(k)) {
          c.close();
          m.delete(k);
        }
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.retain(new Set());
  }
}
