import type { ClientHttp2Stream } from 'node:http2';
import type { Gauge, Registry } from 'prom-client';
import { Backoff } from '../backoff.js';
import { WeftError, isWeftError } from '../errors/index.js';
import type { SpiffeId, WorkloadCertificate } from '../identity/index.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { sharedGauge } from '../telemetry/metrics.js';
import { HboneSession, type TunnelRequest } from './client.js';
import { closeUntrustedPeers } from './peer-trust.js';
import { CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_MS, MAX_STREAMS_PER_SESSION, PING_INTERVAL_MS, PING_TIMEOUT_MS } from './protocol.js';
import { plainSocketFactory, type NextHop, type SocketFactory } from './socket-factory.js';

export interface HbonePoolOptions {
  /** Where TCP sockets come from (the node agent's makes them inside the source pod's namespace). */
  readonly socketFactory?: SocketFactory;
  readonly logger?: Logger;
  /** When given, `weft_hbone_client_sessions` and `weft_hbone_client_streams` gauges are registered. */
  readonly registry?: Registry;
  /** Close a session after this long without streams (default 5 min). */
  readonly idleTimeoutMs?: number;
  /** Keep-alive PING interval (default 10 s; 0 disables) and how long an unanswered PING may stay (20 s). */
  readonly pingIntervalMs?: number;
  readonly pingTimeoutMs?: number;
  /** Bound on TCP+TLS+HTTP/2 setup, and separately on waiting for the CONNECT answer (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Streams per session before another session is opened (default 100). */
  readonly maxStreamsPerSession?: number;
  /** Attempts to set up a session for one request before giving up (default 3); only transport
   *  failures are retried, identity/TLS refusals never. Delays back off with jitter (50 ms → 1 s). */
  readonly maxConnectAttempts?: number;
}

export interface HboneConnectRequest extends TunnelRequest {
  readonly source: SpiffeId;
  readonly destination: SpiffeId;
  readonly nextHop: NextHop;
  /** Client certificate for `source`. */
  readonly certificate: WorkloadCertificate;
  /** PEM roots of the trust bundle the server's chain must lead to. */
  readonly trustRoots: readonly string[];
  /** Session setup attempts for this request instead of the pool's `maxConnectAttempts`: 1 when the
   *  caller has another next hop to fail over to (a waypoint replica) rather than wait on backoff. */
  readonly connectAttempts?: number;
}

interface PoolEntry {
  readonly key: string;
  readonly source: SpiffeId;
  readonly destination: SpiffeId;
  readonly host: string;
  readonly port: number;
  readonly sessions: HboneSession[];
  /** The one connect in flight for this key; everyone else waits on it. */
  connecting: Promise<HboneSession> | undefined;
}

/**
 * HBONE client pool: sessions keyed by (source identity, destination identity, next hop), at most
 * `maxStreamsPerSession` streams each, one connect in flight per key, idle sessions closed.
 * `connect()` resolves to the tunnel (an HTTP/2 CONNECT stream, a Duplex) once the server answered 200.
 */
export class HbonePool {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly log: Logger;
  private readonly socketFactory: SocketFactory;
  private readonly idleTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxStreams: number;
  private readonly maxAttempts: number;
  private readonly sessionGauge: Gauge | undefined;
  private readonly streamGauge: Gauge | undefined;
  private sessionCount = 0;
  private streamCount = 0;
  private closed = false;

  constructor(options: HbonePoolOptions = {}) {
    this.log = (options.logger ?? silentLogger).child({ component: 'hbone.pool' });
    this.socketFactory = options.socketFactory ?? plainSocketFactory;
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.pingTimeoutMs = options.pingTimeoutMs ?? PING_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.maxStreams = options.maxStreamsPerSession ?? MAX_STREAMS_PER_SESSION;
    this.maxAttempts = options.maxConnectAttempts ?? 3;
    if (options.registry) {
      this.sessionGauge = sharedGauge(options.registry, 'weft_hbone_client_sessions', 'HBONE client sessions open');
      this.streamGauge = sharedGauge(options.registry, 'weft_hbone_client_streams', 'HBONE client tunnels (streams) open');
    }
  }

  /** Opens a tunnel. Rejects with a WeftError: ERR_WEFT_HBONE_TLS_* (identity), _DENIED/_UNAVAILABLE/
   *  _REJECTED (the server's status and `x-weft-reason`), _CONNECT_FAILED, _TIMEOUT, _STREAM_RESET. */
  async connect(request: HboneConnectRequest): Promise<ClientHttp2Stream> {
    // A stream the server refused (REFUSED_STREAM) was not processed: it is retried on another session.
    // A refusal by a session that is going away (GOAWAY: a peer that closes sessions under a removed root,
    // or shuts down) retires that session, so each such retry makes progress; other refusals count
    // against `maxConnectAttempts`.
    let attempts = 0;
    for (let tries = 0; ; tries++) {
      if (this.closed) throw new WeftError('ERR_WEFT_HBONE_POOL_CLOSED');
      const session = await this.checkout(request);
      try {
        return await session.open(request);
      } catch (err) {
        if (!isWeftError(err) || err.params.refused !== true) throw err;
        if (err.params.sessionRetired !== true) attempts++;
        if (attempts >= this.maxAttempts || tries >= MAX_REFUSED_RETRIES) throw err;
        this.log.debug({ peer: `${request.nextHop.host}:${request.nextHop.port}`, goingAway: err.params.sessionRetired === true }, 'hbone stream refused; retrying');
      }
    }
  }

  /** Open sessions (including ones draining after GOAWAY or idle close) and streams (tests, admin page). */
  stats(): { sessions: number; streams: number } {
    return { sessions: this.sessionCount, streams: this.streamCount };
  }

  /**
   * Root rotation: closes gracefully (open tunnels finish) the sessions whose server chains to none of
   * `roots`, so the next tunnels open new sessions verified against them. Resolves with how many closed.
   */
  async closeUntrusted(roots: readonly string[]): Promise<number> {
    const sessions = [...this.entries.values()].flatMap((e) => e.sessions);
    const n = await closeUntrustedPeers(sessions, (s) => s.tlsSocket, roots, (s) => s.close());
    if (n > 0) this.log.info({ closed: n }, 'closed HBONE sessions whose server chains to no root still trusted');
    return n;
  }

  /** Stops new tunnels; closes sessions gracefully (open tunnels finish), or at once with `force`. */
  close(options: { force?: boolean } = {}): void {
    this.closed = true;
    for (const entry of this.entries.values())
      for (const s of [...entry.sessions]) {
        if (options.force) s.destroy(new WeftError('ERR_WEFT_HBONE_POOL_CLOSED'));
        else s.close();
      }
    this.entries.clear();
  }

  /**
   * Closes, gracefully, every session to `host` (open tunnels finish, new ones go elsewhere): the next
   * hop left discovery, e.g. a waypoint replica that is no longer ready. Returns how many were closed.
   */
  closeTo(host: string): number {
    let n = 0;
    for (const entry of [...this.entries.values()]) {
      if (entry.host !== host) continue;
      for (const s of [...entry.sessions]) {
        s.close(); // retires it from the entry (onRetire)
        n++;
      }
    }
    return n;
  }

  /** A session of this key with a free stream slot, reserved; connects (single-flight) when none has one. */
  private async checkout(request: HboneConnectRequest): Promise<HboneSession> {
    const key = `${request.source.toString()}|${request.destination.toString()}|${request.nextHop.host}|${request.nextHop.port}`;
    for (;;) {
      if (this.closed) throw new WeftError('ERR_WEFT_HBONE_POOL_CLOSED');
      let entry = this.entries.get(key);
      if (entry !== undefined && !sameKey(entry, request)) {
        // A string key that maps to another tuple would hand one identity's session to another: never reuse.
        this.log.error({ key }, 'hbone pool key collision; not reusing the session');
        entry = undefined;
      }
      if (entry === undefined) {
        entry = {
          key,
          source: request.source,
          destination: request.destination,
          host: request.nextHop.host,
          port: request.nextHop.port,
          sessions: [],
          connecting: undefined,
        };
        this.entries.set(key, entry);
      }
      for (const s of entry.sessions) {
        if (s.available && s.source.equals(request.source) && s.destination.equals(request.destination)) {
          s.reserve();
          return s;
        }
      }
      if (entry.connecting === undefined) {
        const e = entry;
        e.connecting = this.connectWithRetry(e, request).finally(() => {
          e.connecting = undefined;
        });
      }
      // Waiters all retry the scan: the first `maxStreams` take slots on the new session, the rest start
      // the next connect.
      await entry.connecting;
    }
  }

  private async connectWithRetry(entry: PoolEntry, request: HboneConnectRequest): Promise<HboneSession> {
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000, maxAttempts: (request.connectAttempts ?? this.maxAttempts) - 1 });
    for (;;) {
      try {
        const session = await HboneSession.connect({
          source: request.source,
          destination: request.destination,
          nextHop: { host: request.nextHop.host, port: request.nextHop.port },
          certificate: request.certificate,
          trustRoots: request.trustRoots,
          socketFactory: this.socketFactory,
          connectTimeoutMs: this.connectTimeoutMs,
          pingIntervalMs: this.pingIntervalMs,
          pingTimeoutMs: this.pingTimeoutMs,
          idleTimeoutMs: this.idleTimeoutMs,
          maxStreams: this.maxStreams,
          logger: this.log,
          onRetire: (s) => this.retire(entry, s),
          onClosed: this.onSessionClosed,
          onStreams: this.onStreams,
        });
        if (this.closed) {
          session.destroy(new WeftError('ERR_WEFT_HBONE_POOL_CLOSED'));
          throw new WeftError('ERR_WEFT_HBONE_POOL_CLOSED');
        }
        this.sessionCount++;
        this.sessionGauge?.inc();
        if (!session.available) throw new WeftError('ERR_WEFT_HBONE_SESSION_CLOSED', { peer: `${entry.host}:${entry.port}`, detail: 'closed right after connecting' });
        entry.sessions.push(session);
        return session;
      } catch (err) {
        if (!retryable(err) || backoff.exhausted || this.closed) {
          this.log.debug({ err, peer: `${entry.host}:${entry.port}` }, 'hbone connect failed');
          throw err;
        }
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
  }

  private retire(entry: PoolEntry, session: HboneSession): void {
    const i = entry.sessions.indexOf(session);
    if (i < 0) return;
    entry.sessions.splice(i, 1);
    if (entry.sessions.length === 0 && entry.connecting === undefined && this.entries.get(entry.key) === entry)
      this.entries.delete(entry.key);
  }

  private readonly onSessionClosed = (): void => {
    this.sessionCount--;
    this.sessionGauge?.dec();
  };

  private readonly onStreams = (delta: number): void => {
    this.streamCount += delta;
    this.streamGauge?.inc(delta);
  };
}

/** Bound on retries of refused streams in one connect, whatever the reason. */
const MAX_REFUSED_RETRIES = 16;

function sameKey(entry: PoolEntry, request: HboneConnectRequest): boolean {
  return (
    entry.source.equals(request.source) &&
    entry.destination.equals(request.destination) &&
    entry.host === request.nextHop.host &&
    entry.port === request.nextHop.port
  );
}

// Transport failures may be transient (a restarting peer); identity and policy answers are not.
function retryable(err: unknown): boolean {
  return isWeftError(err) && (err.code === 'ERR_WEFT_HBONE_CONNECT_FAILED' || err.code === 'ERR_WEFT_HBONE_TIMEOUT');
}
