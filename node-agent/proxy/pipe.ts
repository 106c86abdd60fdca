import type { Duplex } from 'node:stream';

/**
 * Joins two duplexes both ways with half-close: a FIN from one side ends the other side's writes, and
 * the connection finishes when both directions ended. Any error destroys both. `pipe` keeps the
 * streams' own backpressure and allocates nothing per chunk.
 */
export function join(a: Duplex, b: Duplex): void {
  // An error on either side (e.g. ECONNRESET) resets both: the peer learns the connection failed.
  const destroyBoth = (): void => {
    abort(a);
    abort(b);
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  // A side that closes without having read to its end was aborted (RST, stream reset): abort the other.
  a.on('close', () => {
    if (!a.readableEnded) abort(b);
  });
  b.on('close', () => {
    if (!b.readableEnded) abort(a);
  });
  a.pipe(b);
  b.pipe(a);
}

/** Ends a stream abruptly: a TCP socket with RST (so the peer sees a reset, not a clean end). */
function abort(s: Duplex): void {
  const sock = s as Duplex & { resetAndDestroy?: () => void; connecting?: boolean };
  if (typeof sock.resetAndDestroy === 'function' && !sock.destroyed && sock.connecting === false) sock.resetAndDestroy();
  else s.destroy();
}
