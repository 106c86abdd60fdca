import type { Registry } from 'prom-client';
import type { Duplex } from 'node:stream';
import type { RefusalFlag, WeftError } from '../../lib/errors/index.js';
import { resetTunnel } from '../../lib/hbone/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { AuthzDecision } from '../../lib/authz/index.js';
import type { TapHub } from '../../lib/tap/index.js';
import { tapDryRun, tapVerdict, type ConnectionTapEvent } from '../../lib/tap/index.js';
import { TcpMetrics, type TcpLabels } from './tcp-metrics.js';

export type Reporter = 'source' | 'destination';
export type Direction = 'outbound' | 'inbound' | 'inbound-plain';

/** Who talks to whom; built once at connection setup (metric labels and log fields come from it). */
export interface ConnectionInfo extends TcpLabels {
  readonly reporter: Reporter;
  readonly direction: Direction;
  /** Enrolled pod that owns this connection (its uid). */
  readonly podUid: string;
  readonly srcIp: string;
  readonly srcWorkload: string;
  readonly srcNamespace: string;
  readonly srcIdentity: string;
  /** Original destination `ip:port`. */
  readonly dst: string;
  readonly dstWorkload: string;
  readonly dstNamespace: string;
  readonly dstIdentity: string;
  /** `hbone`, `passthrough`, `waypoint`. */
  readonly path: string;
  /** Destination app port (for re-authorisation when policy changes). */
  readonly dstPort: number;
  /** The enforced L4 decision, set by the destination agent when it authorises (access log, tap). */
  authz?: AuthzDecision;
  /** The dry-run policies' would-be decision, where such policies apply. */
  wouldBe?: AuthzDecision;
}

/** Why a connection was refused or closed early: a coded error (its flag is the outcome) and the policy, if one decided. */
export interface Refusal {
  readonly err: WeftError;
  readonly policy?: string;
}

export interface TrackedConnection {
  readonly id: number;
  readonly info: ConnectionInfo;
  readonly startedAt: number;
  /** Closes both sides now, recording the refusal as the outcome. */
  close(why: Refusal): void;
}

/** The access log's `outcome` and the `response_flags` label: `-` (logged `ok`) for a normal end. */
type Outcome = RefusalFlag | '-';

/**
 * Registry of live proxied connections (ztunnel's connection manager): feeds /debug/connections, closes
 * connections when policy turns against them, and writes one access-log line and the TCP metrics per
 * connection when it ends. Byte counts come from the sockets' own counters, so nothing runs per chunk.
 */
export class Connections {
  private readonly live = new Map<number, TrackedConnection>();
  private nextId = 1;
  private readonly metrics: TcpMetrics;

  constructor(
    registry: Registry,
    private readonly accessLog: Logger,
    /** Tap events (`weft tap`): built only while tap.listening. */
    private readonly tap: TapHub,
  ) {
    this.metrics = new TcpMetrics(registry);
  }

  /**
   * Starts tracking a connection between `down` (the client side) and `up` (toward the server).
   * `bytes()` returns [request bytes, response bytes] when asked at the end.
   */
  track(info: ConnectionInfo, down: Duplex, up: Duplex, bytes: () => [number, number], endedBy?: () => Refusal | undefined): TrackedConnection {
    const id = this.nextId++;
    const series = this.metrics.seriesOf(info);
    series.opened.inc();
    const startedAt = Date.now();
    let outcome: Refusal | undefined;
    let finished = false;
    const conn: TrackedConnection = {
      id,
      info,
      startedAt,
      close: (why) => {
        outcome ??= why;
        // Reset, not a clean close: the peers (an HBONE tunnel's far end too) must see that it was cut.
        resetTunnel(down);
        resetTunnel(up);
      },
    };
    this.live.set(id, conn);
    if (this.tap.listening) this.tap.publish(connectionTapEvent(id, info, undefined));
    let closedSides = 0;
    const onClose = (): void => {
      if (++closedSides < 2 || finished) return;
      finished = true;
      this.live.delete(id);
      // Both sides are closed, so the state `endedBy` reads (an HTTP/2 stream's RST_STREAM code) is final.
      outcome ??= endedBy?.();
      const [req, resp] = bytes();
      const flag = flagOf(outcome);
      series.closed(flag, req, resp);
      const end = { bytesSent: req, bytesReceived: resp, durationMs: Date.now() - startedAt };
      this.log(info, flag, outcome, end);
      if (this.tap.listening) this.tap.publish(connectionTapEvent(id, info, { outcome: outcomeText(flag), ...end }));
    };
    onceClosed(down, onClose);
    onceClosed(up, onClose);
    return conn;
  }

  /** A connection refused before any byte flowed: one access-log line (the error's flag, and its message with the ERR_WEFT_* code as the reason) and a closed metric. */
  refusedWith(info: ConnectionInfo, err: WeftError, policy?: string): void {
    const series = this.metrics.seriesOf(info);
    const why = { err, policy };
    const flag = flagOf(why);
    series.opened.inc();
    series.closed(flag, 0, 0);
    const end = { bytesSent: 0, bytesReceived: 0, durationMs: 0 };
    this.log(info, flag, why, end);
    if (this.tap.listening) this.tap.publish(connectionTapEvent(0, info, { outcome: outcomeText(flag), ...end }));
  }

  list(): TrackedConnection[] {
    return [...this.live.values()];
  }

  /** Closes every live connection for which `pred` returns a reason. */
  closeWhere(pred: (c: TrackedConnection) => Refusal | undefined): number {
    let n = 0;
    for (const c of [...this.live.values()]) {
      const why = pred(c);
      if (why) {
        c.close(why);
        n++;
      }
    }
    return n;
  }

  private log(info: ConnectionInfo, flag: Outcome, why: Refusal | undefined, end: { bytesSent: number; bytesReceived: number; durationMs: number }): void {
    this.accessLog.info(
      {
        reporter: info.reporter,
        direction: info.direction,
        path: info.path,
        src: { ip: info.srcIp, workload: info.srcWorkload, namespace: info.srcNamespace, identity: info.srcIdentity },
        dst: { addr: info.dst, workload: info.dstWorkload, namespace: info.dstNamespace, identity: info.dstIdentity },
        bytes_sent: end.bytesSent,
        bytes_received: end.bytesReceived,
        duration_ms: end.durationMs,
        outcome: outcomeText(flag),
        ...(why ? { reason: `${why.err.message} (${why.err.code})` } : {}),
        ...(why?.policy ? { policy: why.policy } : {}),
        // The rule of the policy that denied (issue 12 item 5: the log names policy and rule).
        ...(why?.policy !== undefined && info.authz?.policy === why.policy && info.authz.rule !== undefined ? { rule: info.authz.rule } : {}),
      },
      'connection complete',
    );
  }
}

function outcomeText(flag: Outcome): string {
  return flag === '-' ? 'ok' : flag;
}

// Every error a connection ends with carries a flag; one without (a table entry for other uses) counts as CONNECT.
function flagOf(why: Refusal | undefined): Outcome {
  return why === undefined ? '-' : (why.err.flag ?? 'CONNECT');
}

/** Calls `fn` once `stream` has emitted 'close', also when it already had (a tunnel reset before we got it). */
function onceClosed(stream: Duplex, fn: () => void): void {
  const state = stream as Duplex & { _readableState?: { closeEmitted?: boolean }; _writableState?: { closeEmitted?: boolean } };
  if (state._readableState?.closeEmitted === true || state._writableState?.closeEmitted === true) queueMicrotask(fn);
  else stream.once('close', fn);
}

// The tap event of a connection, built from the record its access log line comes from; called only while a
// tap listener is attached (Connections checks TapHub.listening first).
interface ConnectionEnd {
  readonly outcome: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly durationMs: number;
}

function connectionTapEvent(id: number, info: ConnectionInfo, end: ConnectionEnd | undefined): ConnectionTapEvent {
  const colon = info.dst.lastIndexOf(':');
  return {
    type: 'connection',
    event: end === undefined ? 'open' : 'close',
    time: new Date().toISOString(),
    id,
    reporter: info.reporter,
    direction: info.direction,
    via: info.path,
    source: { workload: info.srcWorkload, namespace: info.srcNamespace, identity: info.srcIdentity, ip: info.srcIp },
    destination: {
      workload: info.dstWorkload,
      namespace: info.dstNamespace,
      identity: info.dstIdentity,
      address: colon < 0 ? info.dst : info.dst.slice(0, colon),
      port: info.dstPort,
      service: info.service.destination_service,
    },
    ...end,
    // Only where policy was evaluated: the source agent never decides it, and a destination refusal that
    // came first (unknown workload, strict mTLS) has none.
    ...(info.authz === undefined ? {} : { verdict: tapVerdict(info.authz) }),
    ...(info.wouldBe === undefined ? {} : { dryRun: tapDryRun(info.wouldBe) }),
  };
}
