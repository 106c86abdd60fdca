import type { DownResponse, OutHeaders } from '../downstream/exchange.js';
import type { Redirect } from '../route/apply-filters.js';
import type { Headers, UpstreamResponse } from '../upstream/exchange.js';

// The forward layer's writing side: the waypoint's own answers (refusals, errors, redirects) and an
// upstream response copied downstream, through the one downstream response interface whichever protocol
// the client speaks.

const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer']);

/** Where the gRPC status of a forwarded response is recorded (its trailers may carry a later one). */
export interface GrpcStatusSink {
  grpcStatus: string;
}

function grpcStatusOf(h: Headers): string | undefined {
  const v = h['grpc-status'];
  return Array.isArray(v) ? v[0] : v;
}

function grpcCode(status: number): number {
  if (status === 404) return 12; // UNIMPLEMENTED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 504) return 4; // DEADLINE_EXCEEDED
  if (status === 503 || status === 502) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

/** An answer from the waypoint itself, as a gRPC status for a gRPC client; a reset once a head is out. */
export function replyLocal(res: DownResponse, grpc: boolean, status: number, flag: string, message: string, headers?: OutHeaders): void {
  if (res.headersSent) {
    res.abort();
    return;
  }
  const reason = message.replace(/[^\x20-\x7e]/g, ' ');
  if (grpc) {
    res.endWithHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(grpcCode(status)), 'grpc-message': encodeURIComponent(reason), 'x-weft-reason': flag, ...headers });
    return;
  }
  const body = `${reason}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-weft-reason': flag, ...headers });
  res.end(body);
}

export function replyRedirect(res: DownResponse, r: Redirect): void {
  res.writeHead(r.status, { location: r.location, 'content-length': 0 });
  res.end();
}

/** The upstream response's headers as sent downstream: without hop-by-hop fields. */
export function responseHeaders(up: UpstreamResponse): Headers {
  const out: Headers = {};
  for (const k in up.headers) if (!RESPONSE_HOP_BY_HOP.has(k)) out[k] = up.headers[k];
  return out;
}

export function cleanTrailers(t: Headers): Record<string, string | string[]> {
  const clean: Record<string, string | string[]> = {};
  for (const k in t) if (t[k] !== undefined) clean[k] = t[k];
  return clean;
}

/**
 * Writes the upstream response downstream. Synchronous (undefined) when the response is only a head or
 * came whole with its head; otherwise the body streams and the promise settles when it has ended.
 */
export function writeResponse(res: DownResponse, up: UpstreamResponse, headers: Headers, grpc: GrpcStatusSink): Promise<void> | undefined {
  if (up.endStream) {
    // HEADERS with END_STREAM (a gRPC trailers-only response): nothing more to read.
    res.endWithHead(up.status, headers);
    up.body.resume();
    return undefined;
  }
  res.writeHead(up.status, headers);
  if (up.complete) {
    // The whole body came with the head (small HTTP/1.1 responses): no stream, one write downstream.
    const t = up.trailers();
    if (t) {
      const g = grpcStatusOf(t);
      if (g !== undefined) grpc.grpcStatus = g;
      res.addTrailers(cleanTrailers(t));
    }
    res.end(up.complete);
    return undefined;
  }
  return pipeBody(up, res, grpc);
}

/** Streams the upstream body downstream with backpressure, then its trailers. */
function pipeBody(up: UpstreamResponse, res: DownResponse, grpc: GrpcStatusSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = up.body;
    const fail = (err?: unknown): void => {
      body.off('data', onData);
      reject(err instanceof Error ? err : new Error('stream closed early'));
    };
    function onData(chunk: Buffer): void {
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    }
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      const t = up.trailers();
      if (t) {
        const g = grpcStatusOf(t);
        if (g !== undefined) grpc.grpcStatus = g;
        res.addTrailers(cleanTrailers(t));
      }
      res.end();
      resolve();
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        body.destroy();
        fail();
      }
    });
  });
}
