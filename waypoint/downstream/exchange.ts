import type { Readable } from 'node:stream';

// The downstream layer's one interface to the request path: a request and a response that look the same
// whether they came over HTTP/1.1 (h1-exchange.ts, the waypoint's own server) or HTTP/2 (h2-exchange.ts,
// node:http2's compatibility objects, subclassed so that no wrapper is allocated per request). The layers
// below never ask which protocol the client spoke.

export type DownHeaders = Record<string, string | string[] | undefined>;
export type OutHeaders = Record<string, string | string[] | number | undefined>;

export interface DownRequest {
  readonly method: string;
  /** Path and query (origin form). */
  readonly url: string;
  /** Lower-case names; HTTP/2 pseudo-headers (`:authority`) included. */
  readonly headers: DownHeaders;
  /** The body stream, or null when the request has none. */
  readonly body: Readable | null;
  /**
   * The body must be held back (until complete or 64 KiB) before anything goes upstream: an HTTP/1.1
   * chunked body, so that a broken chunk stream is refused with 400 rather than half-forwarded.
   */
  readonly holdBackBody: boolean;
}

export interface DownResponse {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers?: OutHeaders): unknown;
  /** False: wait for 'drain'. */
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer | string): unknown;
  /** Trailers sent after the body (chunked HTTP/1.1, or an HTTP/2 trailing HEADERS frame). */
  addTrailers(trailers: Record<string, string | string[]>): void;
  /** A response that is only its head (a gRPC trailers-only answer): no body, no trailers. */
  endWithHead(status: number, headers: OutHeaders): void;
  /** Resets the exchange: once the head is out, the only way left to say the response failed. */
  abort(): void;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** What a downstream server knows of the connection it serves (the rest is opaque to it). */
export interface DownstreamPeer {
  readonly principal: string | undefined;
  readonly sourceIp: string | undefined;
  readonly sourceWorkload: string;
  readonly serviceLabel: string;
}

/** The request path as the downstream servers see it: one call per request, which never throws. */
export interface RequestHandler<C extends DownstreamPeer> {
  handle(conn: C, req: DownRequest, res: DownResponse): void;
}
