import { Duplex } from 'node:stream';
import { resetTunnel } from '../../lib/hbone/index.js';

// node:http's server corks the socket and flushes the status line (a latin1 string) and body with
// `_writev`; an Http2Stream's native writev garbles such mixed string/Buffer batches (the client saw a
// corrupted status line: test/waypoint/waypoint-hbone.test.ts). This plain Duplex in front of the tunnel
// turns every write into a Buffer written one at a time, with backpressure in both directions.

export class TunnelStream extends Duplex {
  constructor(private readonly inner: Duplex) {
    super({ allowHalfOpen: true });
    inner.on('data', (c: Buffer) => {
      if (!this.push(c)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.once('error', (err) => this.destroy(err));
    inner.once('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    // Destroyed with an error (the upstream failed after the tunnel was accepted): the client's agent must
    // see a reset (RST_STREAM CONNECT_ERROR), not the NO_ERROR a plain destroy sends.
    if (err) resetTunnel(this.inner);
    else this.inner.destroy();
    cb(err);
  }

  // node:http calls these on its "socket"; a tunnel has no Nagle or keep-alive of its own.
  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(ms: number, cb?: () => void): this {
    const s = this.inner as Duplex & { setTimeout?: (ms: number, cb?: () => void) => unknown };
    if (typeof s.setTimeout === 'function') s.setTimeout(ms, () => (cb ? cb() : this.emit('timeout')));
    return this;
  }
}
