import type { Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { H1Response } from '../downstream/h1-exchange.js';
import type { Headers } from '../route/filters.js';
import type { UpstreamResponse } from '../upstream/clients.js';

// Moving an upstream response body downstream (or dropping it), for the forwarder.

function ignore(): void {}

/** Drops a response body we will not forward; undici bodies are drained so the connection is reused. */
export function discard(body: Readable): void {
  body.on('error', ignore);
  const dump = (body as Readable & { dump?: (o?: { limit: number }) => Promise<void> }).dump;
  if (typeof dump === 'function') dump.call(body, { limit: 64 * 1024 }).catch(ignore);
  else body.destroy();
}

export function cleanTrailers(t: Headers): Record<string, string | string[]> {
  const clean: Record<string, string | string[]> = {};
  for (const k in t) if (t[k] !== undefined) clean[k] = t[k];
  return clean;
}

/** Streams the upstream body downstream with backpressure, then its trailers. */
export function pipeBody(up: UpstreamResponse, res: H1Response | Http2ServerResponse, onTrailers: (t: Headers | undefined) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = up.body;
    const fail = (err?: unknown): void => {
      body.off('data', onData);
      reject(err instanceof Error ? err : new Error('stream closed early'));
    };
    function onData(chunk: Buffer): void {
      if (!(res as H1Response).write(chunk)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    }
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      const t = up.trailers();
      onTrailers(t);
      if (t) res.addTrailers(cleanTrailers(t));
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
