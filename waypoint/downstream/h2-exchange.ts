import { constants, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { DownRequest, DownResponse, OutHeaders } from './exchange.js';

// node:http2's compatibility request and response, made to speak the downstream interface (exchange.ts).
// h2-server.ts hands these classes to createServer, so node allocates them in place of its own: the
// interface costs no wrapper object per stream.

export class H2Request extends Http2ServerRequest implements DownRequest {
  get body(): Readable | null {
    return this.stream.endAfterHeaders ? null : this;
  }

  /** nghttp2 has already checked the DATA framing; nothing to hold back for. */
  get holdBackBody(): boolean {
    return false;
  }
}

export class H2Response extends Http2ServerResponse<H2Request> implements DownResponse {
  endWithHead(status: number, headers: OutHeaders): void {
    if (!this.stream.destroyed) this.stream.respond({ ':status': status, ...headers }, { endStream: true });
  }

  abort(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}
