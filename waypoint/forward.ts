import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Logger } from '../lib/telemetry/log.js';
import type { HttpRouteRule, Service, ServicePort } from '../lib/model/index.js';
import { POLICY_DENIED_REASON, type AuthzDecision, type WaypointPolicies } from '../lib/authz/index.js';
import { WeftError, hasCode } from '../lib/errors/index.js';
import { pickP2C } from './balance/p2c-ewma.js';
import { RetryBudget } from './budget.js';
import type { RequestScope, WaypointMetrics } from './metrics.js';
import { ReplayableBody } from './replay-body.js';
import { applyFilters, type HeaderModifier, type MirrorFilter, type OriginalRequest, type Redirect, type UpstreamEdit } from './routes/apply-filters.js';
import { modifyHeaders, type Headers } from './routes/filters.js';
import { hostCandidates, routeAcceptsHost } from './routes/hostnames.js';
import type { CompiledMatch, RequestFacts } from './routes/match.js';
import { selectRoutes } from './routes/route-set.js';
import { pickBackend } from './routes/split.js';
import type { Backend, EndpointEntry, StateIndex } from './state-index.js';
import type { H1Request, H1Response } from './h1/exchange.js';
import { cleanTrailers, discard, pipeBody } from './response-body.js';
import type { UpstreamClients, UpstreamProtocol, UpstreamResponse } from './upstream.js';

// The request path of the waypoint: authorize, match, apply filters, pick a backend by weight and an
// endpoint by P2C peak-EWMA, send with per-try and whole-request timeouts, retry within the budget, and
// write the response back. Protocol servers (http1-server.ts, h2-server.ts) hand every request here.

export type DownRequest = H1Request | Http2ServerRequest;
export type DownResponse = H1Response | Http2ServerResponse;

/** What one inbound connection (an HBONE tunnel) carries for all its requests. */
export interface ConnectionInfo {
  readonly service: Service;
  readonly servicePort: ServicePort;
  /** SPIFFE ID of the client (the HBONE peer: the client pod's own certificate). */
  readonly principal: string | undefined;
  /** Namespace of `principal`: picks the consumer routes that apply to this client. */
  readonly clientNamespace: string | undefined;
  readonly sourceIp: string | undefined;
  readonly sourceWorkload: string;
  /** `namespace/name` of the destination Service, for labels. */
  readonly serviceLabel: string;
  /** Upstream protocol for this port: h2 for http2/grpc ports and for h2 clients on sniffed ports. */
  readonly upstream: UpstreamProtocol;
  /** Read per request, so a policy change reaches requests on connections already open. */
  readonly policies: WaypointPolicies;
  /** Metric cells of this connection's label combination (source, principal, service), shared. */
  readonly metrics: RequestScope;
}

export interface ForwarderOptions {
  readonly index: StateIndex;
  readonly clients: UpstreamClients;
  readonly metrics: WaypointMetrics;
  readonly log: Logger;
  /** Access log (its own logger name); null disables it. */
  readonly accessLog: Logger | null;
  /** This waypoint's SPIFFE ID, for x-forwarded-client-cert `By=`. */
  readonly identity: string | undefined;
  readonly random?: () => number;
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
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer']);

/** Route label of requests no route applies to, forwarded to the Service itself. */
const PASSTHROUGH_LABEL = 'passthrough';
/** Pass-through as a rule: no filters, the Service's own timeouts and retries (none). */
const PASSTHROUGH_RULE: HttpRouteRule = { matches: [], filters: [], backendRefs: [] };

/** gRPC status names by code, for labels. */
const GRPC_RETRYABLE_DEFAULT: readonly number[] = [];

class Facts implements RequestFacts {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: string,
    private readonly headers: DownRequest['headers'],
  ) {}

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }
}

function isH2(res: DownResponse): res is Http2ServerResponse {
  return 'stream' in res;
}

function grpcStatusOf(h: Headers | undefined): string | undefined {
  const v = h?.['grpc-status'];
  return Array.isArray(v) ? v[0] : v;
}

/** Aborts the downstream exchange after its headers were sent (a reset, never a silent truncation). */
function abortDownstream(res: DownResponse): void {
  if (isH2(res)) {
    if (!res.stream.destroyed) res.stream.close(0x2 /* INTERNAL_ERROR */);
  } else res.abort();
}

export class Forwarder {
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly accessLogs = new Map<string, Logger>();
  private readonly random: () => number;

  constructor(private readonly o: ForwarderOptions) {
    this.random = o.random ?? Math.random;
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

  private budget(route: string): RetryBudget {
    let b = this.budgets.get(route);
    if (!b) this.budgets.set(route, (b = new RetryBudget()));
    return b;
  }

  /** Handles one request; never throws. */
  handle(conn: ConnectionInfo, req: DownRequest, res: DownResponse): void {
    this.serve(conn, req, res).catch((err: unknown) => {
      this.o.log.error({ err }, 'waypoint request failed unexpectedly');
      if (!res.headersSent) this.reply(res, false, 500, 'ERR_WEFT_CORE_INTERNAL', String(err));
      else abortDownstream(res);
    });
  }

  private reply(res: DownResponse, grpc: boolean, status: number, flag: string, message: string, headers: Headers = {}): void {
    if (res.headersSent) {
      abortDownstream(res);
      return;
    }
    const reason = message.replace(/[^\x20-\x7e]/g, ' ');
    if (grpc) {
      const code = status === 404 ? 12 : status === 403 ? 7 : status === 504 ? 4 : status === 503 || status === 502 ? 14 : 13;
      const h = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(reason), 'x-weft-reason': flag, ...headers };
      if (isH2(res)) {
        if (!res.stream.destroyed) res.stream.respond(h, { endStream: true });
        return;
      }
      delete (h as Record<string, unknown>)[':status'];
      res.writeHead(200, h).end();
      return;
    }
    const body = `${reason}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-weft-reason': flag, ...headers });
    res.end(body);
  }

  private async serve(conn: ConnectionInfo, req: DownRequest, res: DownResponse): Promise<void> {
    const start = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const headers = req.headers;
    const ct = headers['content-type'];
    const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    const authority = (headers[':authority'] as string | undefined) ?? (headers.host as string | undefined) ?? `${conn.service.name}.${conn.service.namespace}`;

    let routeLabel = 'none';
    let backendLabel = 'none';
    let grpcStatus = '';
    /** The policy decision that refused the request: for the access log, never for the client. */
    let denial: AuthzDecision | undefined;
    const done = (status: number): void => {
      const ms = performance.now() - start;
      conn.metrics.request(status, grpcStatus, routeLabel, backendLabel, ms);
      if (this.o.accessLog) {
        const line = { method, path, authority, status, grpc_status: grpcStatus || undefined, duration_ms: Math.round(ms * 100) / 100 };
        this.accessLog(routeLabel, backendLabel, conn.principal).info(denial === undefined ? line : { ...line, policy: denial.policy, rule: denial.rule, reason: denial.reason }, 'access');
      }
    };
    const local = (status: number, err: WeftError, extra?: Headers): void => {
      grpcStatus = grpc ? String(err.grpc ?? 13) : '';
      this.reply(res, grpc, status, err.flag ?? err.code, err.message, extra);
      done(status);
    };

    // 1. L7 authorization (before routing, as Istio does).
    const policies = conn.policies.current();
    if (policies.size > 0) {
      const d = policies.authorizeL7({ principal: conn.principal, sourceIp: conn.sourceIp, method, path, port: conn.servicePort.port });
      if (!d.allowed) {
        // The client learns only that a policy denied it (issue 12 item 5): which policy and rule is internal
        // detail, kept for the access log and weft_waypoint_denied_total.
        denial = d;
        this.o.metrics.denied(conn.serviceLabel, d.policy, d.rule);
        local(403, new WeftError('ERR_WEFT_WAYPOINT_DENIED', {}), { 'x-weft-reason': POLICY_DENIED_REASON });
        return;
      }
    }

    // 2. Routes: the consumer routes of the client's namespace, else the producer routes, whose hostnames
    //    accept the request; none → pass through to the Service itself (GAMMA).
    const portRoutes = this.o.index.routes(conn.service, conn.servicePort.port);
    const hosts = portRoutes.hostScoped ? hostCandidates(authority, conn.service) : undefined;
    const routes = selectRoutes(portRoutes, conn.clientNamespace, hosts);
    let match: CompiledMatch | undefined;
    let rule: HttpRouteRule = PASSTHROUGH_RULE;
    if (routes) {
      const facts = new Facts(method, path, query, headers);
      for (const m of routes.matches) {
        if (m.grpc && !grpc) continue;
        if (hosts !== undefined && !routeAcceptsHost(m.route.hostnames, hosts)) continue;
        if (m.test(facts)) {
          match = m;
          break;
        }
      }
      if (!match) {
        local(404, new WeftError('ERR_WEFT_WAYPOINT_NO_ROUTE', { service: conn.serviceLabel, port: conn.servicePort.port, method, path }));
        return;
      }
      rule = match.rule;
      routeLabel = `${match.route.namespace}/${match.route.name}`;
    } else routeLabel = PASSTHROUGH_LABEL;

    // 3. The rule's filters.
    const upHeaders: Headers = {};
    for (const k in headers) {
      if (k.charCodeAt(0) === 58 || HOP_BY_HOP.has(k)) continue;
      upHeaders[k] = headers[k];
    }
    if (grpc && upHeaders['te'] === undefined) upHeaders['te'] = 'trailers';
    const edit: UpstreamEdit = { path, authority, headers: upHeaders, responseMods: undefined, mirrors: undefined };
    // What redirects and rewrites are computed from; built only when a filter needs it.
    let original: OriginalRequest | undefined;
    if (rule.filters.length > 0) {
      original = { authority, path, query, listenerPort: conn.servicePort.port, prefix: match?.prefix };
      const redirect = applyFilters(rule.filters, original, edit);
      if (redirect) {
        this.redirect(res, redirect);
        done(redirect.status);
        return;
      }
    }

    // 4. Backend by weight (pass-through: the Service itself); a share with no valid backend answers 500.
    let backend: Backend | undefined;
    if (!match) backend = this.o.index.backend(conn.service.namespace, conn.service.name, conn.servicePort.port);
    else {
      const ref = pickBackend(this.o.index.split(rule), this.random);
      if (!ref || !ref.service) {
        local(500, new WeftError('ERR_WEFT_WAYPOINT_INVALID_BACKEND', { route: routeLabel, reason: ref ? (ref.invalidReason ?? 'unresolved backendRef') : 'no backendRef with weight > 0' }));
        return;
      }
      backend = this.o.index.backend(ref.service.namespace, ref.service.name, ref.port);
      if (!backend) {
        backendLabel = `${ref.service.namespace}/${ref.service.name}:${ref.port ?? ''}`;
        local(500, new WeftError('ERR_WEFT_WAYPOINT_INVALID_BACKEND', { route: routeLabel, reason: `Service ${backendLabel} or its port does not exist` }));
        return;
      }
      // The backendRef's own filters act only on requests sent to it, after the rule's.
      if (ref.filters && ref.filters.length > 0) {
        original ??= { authority, path, query, listenerPort: conn.servicePort.port, prefix: match.prefix };
        const redirect = applyFilters(ref.filters, original, edit);
        if (redirect) {
          backendLabel = backend.label;
          this.redirect(res, redirect);
          done(redirect.status);
          return;
        }
      }
    }
    if (!backend) {
      local(503, new WeftError('ERR_WEFT_WAYPOINT_NO_ENDPOINT', { backend: `${conn.serviceLabel}:${conn.servicePort.port}` }));
      return;
    }
    backendLabel = backend.label;
    if (backend.endpoints.length === 0) {
      local(503, new WeftError('ERR_WEFT_WAYPOINT_NO_ENDPOINT', { backend: backendLabel }));
      return;
    }
    // The client's identity travels to the backend the way Istio's waypoint passes it (XFCC), never trusted
    // from the client; set after every filter so no header modifier can forge it.
    if (conn.principal) upHeaders['x-forwarded-client-cert'] = `${this.o.identity ? `By=${this.o.identity};` : ''}URI=${conn.principal}`;

    // 5. Body: streamed, with a replayable copy of up to 64 KiB.
    const bodySource = isH2(res) ? ((req as Http2ServerRequest).stream.endAfterHeaders ? null : (req as Http2ServerRequest)) : (req as H1Request).body;
    const body = bodySource ? new ReplayableBody(bodySource) : null;
    if (body && !isH2(res) && headers['transfer-encoding'] !== undefined) {
      await body.holdBack();
      // The parser refused the chunk stream and answered 400 itself: nothing goes upstream.
      if (body.broken) return;
    }
    if (edit.mirrors) this.mirror(edit.mirrors, body, { method, path: edit.path, query, authority: edit.authority, headers: upHeaders, protocol: conn.upstream });

    const fullPath = query ? `${edit.path}?${query}` : edit.path;
    const status = await this.attempts(conn, req, res, rule, routeLabel, backend, grpc, { method, path: fullPath, authority: edit.authority, headers: upHeaders, body }, edit.responseMods, (g) => (grpcStatus = g));
    done(status);
  }

  /** Runs the tries; returns the status written downstream. */
  private async attempts(
    conn: ConnectionInfo,
    req: DownRequest,
    res: DownResponse,
    rule: HttpRouteRule,
    routeLabel: string,
    backend: Backend,
    grpc: boolean,
    up: { method: string; path: string; authority: string; headers: Headers; body: ReplayableBody | null },
    responseMods: readonly HeaderModifier[] | undefined,
    setGrpc: (g: string) => void,
  ): Promise<number> {
    const retry = rule.retry;
    const maxRetries = retry?.attempts ?? 0;
    const requestMs = rule.timeouts?.requestMs ?? null;
    const tryMs = rule.timeouts?.backendRequestMs ?? null;
    const budget = retry ? this.budget(routeLabel) : undefined;
    budget?.deposit();

    // Whole-request deadline, spanning every try; the client going away cancels too. Controllers and
    // timers exist only when a timeout is configured: the common no-timeout request allocates none.
    const overall = requestMs ? new AbortController() : undefined;
    let overallTimedOut = false;
    const overallTimer = overall ? setTimeout(() => ((overallTimedOut = true), overall.abort()), requestMs!) : undefined;
    const onClientGone = (): void => {
      if (!res.writableFinished) overall?.abort();
    };
    if (overall) res.once('close', onClientGone);
    const cleanup = (): void => {
      if (overallTimer) clearTimeout(overallTimer);
      if (overall) res.off('close', onClientGone);
    };
    const aborted = (): boolean => overall?.signal.aborted ?? false;

    for (let attempt = 0; ; attempt++) {
      const entry = pickP2C(backend.endpoints, performance.now(), this.random)!;
      const tryCtl = tryMs || overall ? new AbortController() : undefined;
      let tryTimedOut = false;
      const tryTimer = tryMs ? setTimeout(() => ((tryTimedOut = true), tryCtl!.abort()), tryMs) : undefined;
      const onOverall = (): void => tryCtl?.abort();
      overall?.signal.addEventListener('abort', onOverall);
      const endTry = (): void => {
        if (tryTimer) clearTimeout(tryTimer);
        overall?.signal.removeEventListener('abort', onOverall);
      };
      up.headers['x-weft-attempt'] = String(attempt + 1);
      const t0 = performance.now();
      entry.stats.pending++;
      let response: UpstreamResponse | undefined;
      let failure: unknown;
      try {
        response = await this.o.clients.request(conn.upstream, entry.endpoint, {
          method: up.method,
          path: up.path,
          authority: up.authority,
          headers: up.headers,
          body: up.body ? up.body.next() : null,
          signal: tryCtl?.signal,
        });
      } catch (err) {
        failure = err;
      }

      const canRetry = (): boolean => {
        if (!retry || attempt >= maxRetries || aborted()) return false;
        if (up.body && !up.body.replayable) return false;
        if (!budget!.withdraw()) {
          this.o.metrics.budgetExhaustion(routeLabel, conn.serviceLabel);
          return false;
        }
        return true;
      };

      if (!response) {
        entry.stats.pending--;
        endTry();
        this.failed(entry, backend);
        if (overallTimedOut || (tryTimedOut && !(retry?.codes.includes(504) ?? false))) {
          cleanup();
          const which = overallTimedOut ? 'request' : 'backendRequest';
          this.localError(res, grpc, new WeftError('ERR_WEFT_WAYPOINT_TIMEOUT', { which, ms: (overallTimedOut ? requestMs : tryMs) ?? 0, route: routeLabel }), setGrpc);
          return 504;
        }
        if (aborted()) {
          cleanup();
          return 499; // client went away
        }
        if (canRetry() && (await this.beforeRetry(up.body, retry!.backoffMs, overall?.signal))) {
          this.o.metrics.retry(routeLabel, conn.serviceLabel);
          continue;
        }
        cleanup();
        if (overallTimedOut) {
          this.localError(res, grpc, new WeftError('ERR_WEFT_WAYPOINT_TIMEOUT', { which: 'request', ms: requestMs ?? 0, route: routeLabel }), setGrpc);
          return 504;
        }
        if (!tryTimedOut && hasCode(failure, 'ERR_WEFT_WAYPOINT_BAD_RESPONSE')) {
          // The endpoint answered, but not in valid HTTP/1.1: a bad gateway, not an unavailable one.
          this.localError(res, grpc, failure, setGrpc);
          return 502;
        }
        const reason = tryTimedOut ? `backendRequest timeout of ${tryMs} ms` : failure instanceof Error ? failure.message : String(failure);
        this.localError(res, grpc, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: backend.label, reason }), setGrpc);
        return tryTimedOut ? 504 : 503;
      }

      const status = response.status;
      const g = grpc ? grpcStatusOf(response.headers) : undefined;
      const retryable = status >= 500 ? (retry?.codes.includes(status) ?? false) : g !== undefined && g !== '0' && (retry?.grpcCodes ?? GRPC_RETRYABLE_DEFAULT).includes(Number(g));
      if (status >= 500 || (g !== undefined && (g === '14' || g === '13'))) this.failed(entry, backend);
      if (retryable && canRetry()) {
        entry.stats.pending--;
        endTry();
        if (response.discard) response.discard();
        else discard(response.body);
        if (await this.beforeRetry(up.body, retry!.backoffMs, overall?.signal)) {
          this.o.metrics.retry(routeLabel, conn.serviceLabel);
          continue;
        }
        cleanup();
        if (overallTimedOut) {
          this.localError(res, grpc, new WeftError('ERR_WEFT_WAYPOINT_TIMEOUT', { which: 'request', ms: requestMs ?? 0, route: routeLabel }), setGrpc);
          return 504;
        }
        this.localError(res, grpc, new WeftError('ERR_WEFT_WAYPOINT_UPSTREAM', { endpoint: entry.key, backend: backend.label, reason: `status ${status}` }), setGrpc);
        return 503;
      }
      if (status < 500 && (g === undefined || g === '0')) entry.stats.outlier.success();

      // 6. Write the response; the try and request timers keep running until the body has ended.
      const outHeaders: Headers = {};
      for (const k in response.headers) if (!RESPONSE_HOP_BY_HOP.has(k)) outHeaders[k] = response.headers[k];
      if (responseMods) for (const m of responseMods) modifyHeaders(outHeaders, m);
      if (g !== undefined) setGrpc(g);
      try {
        if (response.endStream && isH2(res)) {
          if (!res.stream.destroyed) res.stream.respond({ ':status': status, ...outHeaders }, { endStream: true });
        } else if (response.complete) {
          // The whole body came with the head (small HTTP/1.1 responses): no stream, one write downstream.
          res.writeHead(status, outHeaders);
          const t = response.trailers();
          if (t) {
            const tg = grpcStatusOf(t);
            if (tg !== undefined) setGrpc(tg);
            res.addTrailers(cleanTrailers(t));
          }
          res.end(response.complete);
        } else {
          res.writeHead(status, outHeaders);
          await pipeBody(response, res, (t) => {
            const tg = grpcStatusOf(t);
            if (tg !== undefined) setGrpc(tg);
          });
        }
        entry.stats.observe(performance.now() - t0, performance.now());
      } catch {
        if (overallTimedOut || tryTimedOut) this.o.log.debug({ route: routeLabel }, 'timeout while streaming the response; stream reset');
        abortDownstream(res);
      } finally {
        entry.stats.pending--;
        endTry();
        cleanup();
      }
      void req;
      return status;
    }
  }

  private failed(entry: EndpointEntry, backend: Backend): void {
    if (entry.stats.outlier.failure(performance.now())) {
      this.o.metrics.ejection(backend.label);
      this.o.log.warn({ endpoint: entry.key, backend: backend.label, ejections: entry.stats.outlier.ejectionCount }, 'endpoint ejected after consecutive failures');
    }
  }

  private redirect(res: DownResponse, r: Redirect): void {
    res.writeHead(r.status, { location: r.location, 'content-length': 0 });
    res.end();
  }

  private localError(res: DownResponse, grpc: boolean, err: WeftError, setGrpc: (g: string) => void): void {
    if (grpc) setGrpc(String(err.grpc ?? 13));
    this.reply(res, grpc, err.http ?? 500, err.flag ?? err.code, err.message);
  }

  /** Waits for the body to be complete (so it can be replayed) and for the backoff; false to give up. */
  private async beforeRetry(body: ReplayableBody | null, backoffMs: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    if (body && !(await body.complete())) return false;
    if (backoffMs && backoffMs > 0) {
      const ms = Math.round(backoffMs / 2 + (this.random() * backoffMs) / 2);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done(): void {
          clearTimeout(t);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done);
      });
    }
    return !(signal?.aborted ?? false);
  }

  private mirror(
    mirrors: readonly MirrorFilter[],
    body: ReplayableBody | null,
    up: { method: string; path: string; query: string; authority: string; headers: Headers; protocol: UpstreamProtocol },
  ): void {
    for (const m of mirrors) {
      const percent = m.requestMirror.percent ?? 100;
      if (percent < 100 && this.random() * 100 >= percent) continue;
      const ref = m.requestMirror.backendRef;
      if (!ref.service) continue;
      const backend = this.o.index.backend(ref.service.namespace, ref.service.name, ref.port);
      const entry = backend && pickP2C(backend.endpoints, performance.now(), this.random);
      if (!entry) continue;
      const headers = { ...up.headers, 'x-weft-mirror': '1' };
      const send = (b: Buffer | null): void => {
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), 10_000);
        this.o.clients
          .request(up.protocol, entry.endpoint, { method: up.method, path: up.query ? `${up.path}?${up.query}` : up.path, authority: up.authority, headers, body: b, signal: ctl.signal })
          .then((r) => r.body.resume().once('close', () => clearTimeout(timer)))
          .catch(() => clearTimeout(timer));
      };
      // Fire and forget: mirrors never delay or change the real response; large bodies are not mirrored.
      if (!body) send(null);
      else void body.whenEnded().then((b) => b && send(b));
    }
  }
}
