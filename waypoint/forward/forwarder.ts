import type { Clock } from '../../lib/clock.js';
import { POLICY_DENIED_REASON, type DryRunRecorder } from '../../lib/authz/index.js';
import { WeftError } from '../../lib/errors/index.js';
import type { HttpRouteRule } from '../../lib/model/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { TapHub } from '../../lib/tap/index.js';
import type { DownRequest, DownResponse, OutHeaders, RequestHandler } from '../downstream/exchange.js';
import { NO_DESTINATION, type WaypointMetrics } from '../metrics.js';
import { denial } from '../policy/authorize.js';
import { ReplayableBody } from '../retry/replay-body.js';
import type { Retrier } from '../retry/retrier.js';
import { applyFilters, type OriginalRequest } from '../route/apply-filters.js';
import { modifyHeaders } from '../route/filters.js';
import type { CompiledMatch } from '../route/match.js';
import { PASSTHROUGH, selectMatch } from '../route/select.js';
import { pickBackend } from '../route/split.js';
import type { Backend, StateIndex } from '../route/state-index.js';
import { Deadline } from '../timeout/deadline.js';
import { Call } from './call.js';
import type { ConnectionInfo } from './connection.js';
import type { Mirrors } from './mirror.js';
import { replyLocal, replyRedirect, responseHeaders, writeResponse } from './write-response.js';
import { requestTapEvent } from './request-tap.js';

// The forward layer: the request path's one entry point, which the downstream servers call for every
// request, and the order of the layers under it. Policy (L7 authorization) → route (match, filters,
// weighted backend) → retry (with its budget) → timeout → balance → upstream, each in its own folder;
// this module only sequences them and writes what comes back through the downstream response interface.

export type { ConnectionInfo } from './connection.js';

export interface ForwarderOptions {
  readonly index: StateIndex;
  readonly retrier: Retrier;
  readonly mirrors: Mirrors;
  readonly metrics: WaypointMetrics;
  /** Logs and counts the would-be verdict of dry-run AuthorizationPolicies. */
  readonly dryRun: DryRunRecorder;
  readonly log: Logger;
  /** Access log (its own logger name); null disables it. */
  readonly accessLog: Logger | null;
  /** Tap events (`weft tap`): built only while tap.listening. */
  readonly tap: TapHub;
  /** This waypoint's SPIFFE ID, for x-forwarded-client-cert `By=`. */
  readonly identity: string | undefined;
  readonly clock: Clock;
  readonly random: () => number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'http2-settings',
  'host',
  'expect',
  'x-forwarded-client-cert',
]);

/** Pass-through as a rule: no filters, the Service's own timeouts and retries (none). */
const PASSTHROUGH_RULE: HttpRouteRule = { matches: [], filters: [], backendRefs: [] };

export class Forwarder implements RequestHandler<ConnectionInfo> {
  private readonly accessLogs = new Map<string, Logger>();

  constructor(private readonly o: ForwarderOptions) {}

  /** Handles one request; never throws. */
  handle(conn: ConnectionInfo, req: DownRequest, res: DownResponse): void {
    try {
      this.serve(conn, req, res);
    } catch (err) {
      this.unexpected(res, err);
    }
  }

  private unexpected(res: DownResponse, err: unknown): void {
    this.o.log.error({ err }, 'waypoint request failed unexpectedly');
    replyLocal(res, false, 500, 'ERR_WEFT_CORE_INTERNAL', String(err));
  }

  /** Policy, route and backend: decided synchronously; only a request that goes upstream waits, on callbacks. */
  private serve(conn: ConnectionInfo, req: DownRequest, res: DownResponse): void {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const headers = req.headers;
    const ct = headers['content-type'];
    const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    const authority = (headers[':authority'] as string | undefined) ?? (headers.host as string | undefined) ?? `${conn.service.name}.${conn.service.namespace}`;
    const call = new Call(conn, req, res, this.o.clock.now(), req.method, path, query, authority, grpc);

    // 1. Policy: L7 authorization, before routing (as Istio does).
    const d = denial(conn, call.method, path, this.o.dryRun, call);
    if (d !== undefined) {
      // The client learns only that a policy denied it (issue 12 item 5): which policy and rule is internal
      // detail, kept for the access log and weft_waypoint_denied_total.
      call.denial = d;
      this.o.metrics.denied(conn.serviceLabel, d.policy, d.rule);
      this.local(call, 403, new WeftError('ERR_WEFT_WAYPOINT_DENIED', {}), { 'x-weft-reason': POLICY_DENIED_REASON });
      return;
    }

    // 2. Route: the matching rule, or pass-through to the Service itself when no route applies (GAMMA).
    const m = selectMatch(this.o.index.routes(conn.service, conn.servicePort.port), conn.clientNamespace, conn.service, call, headers);
    if (m === undefined) {
      this.local(call, 404, new WeftError('ERR_WEFT_WAYPOINT_NO_ROUTE', { service: conn.serviceLabel, port: conn.servicePort.port, method: call.method, path }));
      return;
    }
    const match: CompiledMatch | undefined = m === PASSTHROUGH ? undefined : m;
    const rule = match ? match.rule : PASSTHROUGH_RULE;
    call.routeLabel = match ? match.label : PASSTHROUGH;

    // 3. The rule's filters edit the upstream request (Call is the edit).
    const upHeaders = call.headers;
    for (const k in headers) {
      if (k.charCodeAt(0) === 58 || HOP_BY_HOP.has(k)) continue;
      upHeaders[k] = headers[k];
    }
    if (grpc && upHeaders['te'] === undefined) upHeaders['te'] = 'trailers';
    // What redirects and rewrites are computed from; built only when a filter needs it.
    let original: OriginalRequest | undefined;
    if (rule.filters.length > 0) {
      original = { authority, path, query, listenerPort: conn.servicePort.port, prefix: match?.prefix };
      const redirect = applyFilters(rule.filters, original, call);
      if (redirect) {
        call.req.body?.resume();
        replyRedirect(res, redirect);
        this.done(call, redirect.status);
        return;
      }
    }

    // 4. Backend by weight; a share with no valid backend answers 500, one without endpoints 503.
    const backend = match ? this.splitBackend(call, match, rule, original) : this.o.index.backend(conn.service.namespace, conn.service.name, conn.servicePort.port);
    if (backend === null) return; // answered
    if (!backend) {
      this.local(call, 503, new WeftError('ERR_WEFT_WAYPOINT_NO_ENDPOINT', { backend: `${conn.serviceLabel}:${conn.servicePort.port}` }));
      return;
    }
    call.backendLabel = backend.label;
    if (backend.endpoints.length === 0) {
      this.local(call, 503, new WeftError('ERR_WEFT_WAYPOINT_NO_ENDPOINT', { backend: backend.label }));
      return;
    }
    call.target = backend;
    // The client's identity travels to the backend the way Istio's waypoint passes it (XFCC), never trusted
    // from the client; set after every filter so no header modifier can forge it.
    if (conn.principal) upHeaders['x-forwarded-client-cert'] = `${this.o.identity ? `By=${this.o.identity};` : ''}URI=${conn.principal}`;
    call.sendable();

    // 5. The rule's retries and timeouts; the body streams, with a replayable copy of up to 64 KiB.
    call.retry = rule.retry;
    const body = req.body;
    if (body) call.replay = new ReplayableBody(body);
    this.forward(call, rule.timeouts);
  }

  /** A matched rule's backend: weighted pick, then that backendRef's own filters. Null: answered already. */
  private splitBackend(call: Call, match: CompiledMatch, rule: HttpRouteRule, original: OriginalRequest | undefined): Backend | undefined | null {
    const ref = pickBackend(this.o.index.split(rule), this.o.random);
    if (!ref || !ref.service) {
      this.local(call, 500, new WeftError('ERR_WEFT_WAYPOINT_INVALID_BACKEND', { route: call.routeLabel, reason: ref ? (ref.invalidReason ?? 'unresolved backendRef') : 'no backendRef with weight > 0' }));
      return null;
    }
    const backend = this.o.index.backend(ref.service.namespace, ref.service.name, ref.port);
    if (!backend) {
      call.backendLabel = `${ref.service.namespace}/${ref.service.name}:${ref.port ?? ''}`;
      this.local(call, 500, new WeftError('ERR_WEFT_WAYPOINT_INVALID_BACKEND', { route: call.routeLabel, reason: `Service ${call.backendLabel} or its port does not exist` }));
      return null;
    }
    // The backendRef's own filters act only on requests sent to it, after the rule's.
    if (ref.filters && ref.filters.length > 0) {
      original ??= { authority: call.clientAuthority, path: call.clientPath, query: call.query, listenerPort: call.conn.servicePort.port, prefix: match.prefix };
      const redirect = applyFilters(ref.filters, original, call);
      if (redirect) {
        call.backendLabel = backend.label;
        replyRedirect(call.res, redirect);
        this.done(call, redirect.status);
        return null;
      }
    }
    return backend;
  }

  /** The part that waits: body hold-back (only when the client's body must be checked first), then the tries. */
  private forward(call: Call, timeouts: HttpRouteRule['timeouts']): void {
    const replay = call.replay;
    if (replay && call.req.holdBackBody) {
      replay.holdBack().then(
        // The parser refused the chunk stream and answered 400 itself: nothing goes upstream.
        () => replay.broken || this.send(call, timeouts),
        (err: unknown) => this.unexpected(call.res, err),
      );
      return;
    }
    this.send(call, timeouts);
  }

  /** Deadline, mirrors and the tries; the retry layer calls back `tried` (no promise per request). */
  private send(call: Call, timeouts: HttpRouteRule['timeouts']): void {
    try {
      if (timeouts && (timeouts.requestMs || timeouts.backendRequestMs)) {
        call.deadline = new Deadline(this.o.clock, call.res, call.routeLabel, timeouts.requestMs ?? null, timeouts.backendRequestMs ?? null);
      }
      if (call.mirrors) this.o.mirrors.send(call.mirrors, call.replay, call);
      this.o.retrier.run(call, this.tried);
    } catch (err) {
      this.unexpected(call.res, err);
    }
  }

  /** The tries are over: the response (or the local error) goes downstream. */
  private readonly tried = (call: Call, unexpected?: unknown): void => {
    if (unexpected !== undefined) {
      this.unexpected(call.res, unexpected);
      return;
    }
    try {
      const response = call.response;
      if (!response) {
        const err = call.error;
        if (err) {
          if (call.grpc) call.grpcStatus = String(err.grpc ?? 13);
          replyLocal(call.res, call.grpc, err.http ?? 500, err.flag ?? err.code, err.message);
        }
        this.done(call, call.status);
        return;
      }
      // The try and request timers keep running until the body has ended.
      const headers = responseHeaders(response);
      if (call.responseMods) for (const mod of call.responseMods) modifyHeaders(headers, mod);
      let streaming: Promise<void> | undefined;
      try {
        streaming = writeResponse(call.res, response, headers, call);
      } catch {
        this.streamFailed(call);
        return;
      }
      if (!streaming) this.responded(call, true);
      else streaming.then(() => this.responded(call, true), () => this.streamFailed(call));
    } catch (err) {
      this.unexpected(call.res, err);
    }
  };

  private streamFailed(call: Call): void {
    if (call.deadline && (call.deadline.requestTimedOut || call.deadline.tryTimedOut)) this.o.log.debug({ route: call.routeLabel }, 'timeout while streaming the response; stream reset');
    call.res.abort();
    this.responded(call, false);
  }

  private responded(call: Call, ok: boolean): void {
    try {
      this.o.retrier.finish(call, ok);
      this.done(call, call.status);
    } catch (err) {
      this.unexpected(call.res, err);
    }
  }

  private local(call: Call, status: number, err: WeftError, extra?: OutHeaders): void {
    // Read and drop what the client is still sending: an HTTP/2 client reset mid-body reports a stream error
    // (curl exit 92) instead of the answer, and an HTTP/1.1 connection must reach the next request.
    call.req.body?.resume();
    if (call.grpc) call.grpcStatus = String(err.grpc ?? 13);
    replyLocal(call.res, call.grpc, status, err.flag ?? err.code, err.message, extra);
    call.error = err;
    this.done(call, status);
  }

  /** Metrics and the access log line of a finished request. */
  private done(call: Call, status: number): void {
    const ms = this.o.clock.now() - call.start;
    // The flag of the error that answered (local reply or failed upstream), `-` when upstream answered.
    const err = call.error;
    const flag = err === undefined ? '-' : (err.flag ?? 'UPSTREAM');
    call.conn.metrics.request(status, call.grpcStatus, flag, call.routeLabel, call.backendLabel, call.entry?.labels ?? NO_DESTINATION, ms);
    if (this.o.accessLog) {
      const line = { method: call.method, path: call.clientPath, authority: call.clientAuthority, status, grpc_status: call.grpcStatus || undefined, duration_ms: Math.round(ms * 100) / 100 };
      const d = call.denial;
      this.accessLog(call.routeLabel, call.backendLabel, call.conn.principal).info(d === undefined ? line : { ...line, policy: d.policy, rule: d.rule, reason: d.reason }, 'access');
    }
    if (this.o.tap.listening) this.o.tap.publish(requestTapEvent(call, status, flag, ms));
  }

  /** Access-log child per route, backend and client: pino serialises those bindings once, not per line. */
  private accessLog(route: string, backend: string, principal: string | undefined): Logger {
    const key = `${route}|${backend}|${principal ?? ''}`;
    let l = this.accessLogs.get(key);
    if (!l) {
      if (this.accessLogs.size >= 10_000) this.accessLogs.clear(); // bounded against identity churn
      this.accessLogs.set(key, (l = this.o.accessLog!.child({ route, backend, principal })));
    }
    return l;
  }
}
