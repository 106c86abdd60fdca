import type { Readable } from 'node:stream';

// What the request path hands an upstream client (HTTP/1.1 pool or HTTP/2 session) and gets back: the
// one shape both protocols share, in its own module so that the clients and the table of clients
// (clients.ts) do not import each other.

/**
 * Where an upstream client delivers a request's outcome, exactly once: the response (head received), or
 * the error. A callback instead of a promise: the common request path allocates no promise and takes no
 * microtask hop between the response's bytes and its write downstream.
 */
export type UpstreamCallback = (err: Error | null, res: UpstreamResponse | undefined) => void;

/** Lower-case header names to values, as both upstream clients take and give them. */
export type Headers = Record<string, string | string[] | undefined>;

export interface UpstreamRequest {
  readonly method: string;
  /** Path with query. */
  readonly path: string;
  readonly authority: string;
  /** Lower-case names, no pseudo-headers, no hop-by-hop headers. */
  readonly headers: Headers;
  readonly body: Readable | Buffer | null;
  /** Present only when a timeout or cancellation applies. */
  readonly signal: AbortSignal | undefined;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Readable;
  /** HTTP/2 only: the response ended with its headers (a gRPC trailers-only response). */
  readonly endStream: boolean;
  /** Trailers once the body has ended (gRPC status lives here). */
  trailers(): Headers | undefined;
  /** The whole body when it arrived with the head (HTTP/1.1): writing it downstream then needs no stream. */
  readonly complete?: Buffer;
  /** Drops the body so the connection can be reused (HTTP/1.1). */
  discard?(): void;
}
