import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BURST_CHUNK_BYTES, endBurstThisIteration, type BurstOwner } from './burst-cork.js';

/** Bytes copied each way by `pipeTunnel`, and the first error that ended it (if any). */
export interface TunnelResult {
  /** Bytes read from `a` and written to `b`. */
  aToB: number;
  /** Bytes read from `b` and written to `a`. */
  bToA: number;
  error?: Error;
}

/**
 * Copies bytes both ways between two duplexes until both directions are done, preserving half-close: when
 * one side's readable ends (TCP FIN or HTTP/2 END_STREAM) the other side's writable is ended, and the other
 * direction keeps flowing. Any error or abnormal close (e.g. an HTTP/2 stream reset) destroys both.
 * Resolves (never rejects) once both have closed, with byte counts for accounting.
 *
 * TCP sockets passed here must allow half-open (`allowHalfOpen: true`), otherwise Node ends their write
 * side as soon as their peer half-closes.
 *
 * Allocation-light: one object with bound handlers per tunnel, nothing per chunk. Bulk writes are batched
 * per burst (burst-cork.ts): the large chunks one event-loop iteration delivered (an HTTP/2 stream gets one
 * per DATA frame) leave in one writev instead of one write syscall each; small ones go at once. Backpressure pauses the reading side once the writing side holds
 * `PIPE_BUFFER_BYTES` and resumes it on drain (bounded memory per direction; nothing is held while idle).
 */
export function pipeTunnel(a: Duplex, b: Duplex): Promise<TunnelResult> {
  return new Promise((resolve) => {
    new TunnelPipe(a, b, resolve);
  });
}

/** Ends a side abortively: TCP sockets send RST (so the far end sees a reset, not a clean FIN), HTTP/2
 *  streams send RST_STREAM (what destroy() does for them). */
function abort(side: Duplex): void {
  if (side.destroyed) return;
  const reset = (side as Partial<Socket>).resetAndDestroy;
  // Not after end(): libuv refuses to reset a socket whose shutdown is pending (EINVAL), and Node then
  // emits 'error' but never 'close', so whoever waits for the close (the access log, the connection
  // table) waits forever. Our FIN is on its way; a plain destroy closes the socket.
  if (typeof reset === 'function' && !side.writableEnded) {
    try {
      reset.call(side);
      return;
    } catch {
      // not connected: fall through
    }
  }
  side.destroy();
}

/**
 * Bytes a writing side may hold before the reading side is paused. Node's own 16 KiB writable high-water
 * mark is below one 64 KiB TCP read, so honouring it paused and resumed the reading socket (two epoll_ctl
 * calls) for every read. Measured with strace on the bulk phase of bench/hbone-loopback (HBONE client and
 * server processes, per MiB carried): epoll_ctl on the client 75 → 7 with 1 MiB; write syscalls on the
 * server 118 (one per 8 KiB chunk) → 2 writev with 1 MiB and burst corking. 256 KiB paused every fourth
 * read and was no faster than before. 1 MiB is a quarter of the HTTP/2 stream window a peer may fill
 * anyway (protocol.ts), and it is only reached while bytes flow and the writer lags: idle tunnels hold none.
 */
export const PIPE_BUFFER_BYTES = 1024 * 1024;

class TunnelPipe implements BurstOwner {
  private readonly result: TunnelResult = { aToB: 0, bToA: 0 };
  private closedA = false;
  private closedB = false;
  /** We corked that side for a burst; endBurst uncorks it. */
  private corkedA = false;
  private corkedB = false;

  constructor(
    private readonly a: Duplex,
    private readonly b: Duplex,
    private readonly done: (r: TunnelResult) => void,
  ) {
    a.on('data', this.onDataA);
    b.on('data', this.onDataB);
    a.on('end', this.onEndA);
    b.on('end', this.onEndB);
    b.on('drain', this.onDrainB);
    a.on('drain', this.onDrainA);
    a.on('error', this.onError);
    b.on('error', this.onError);
    a.on('close', this.onCloseA);
    b.on('close', this.onCloseB);
    // Either side may already be gone (a reset before we were called): treat it as closed now.
    if (a.destroyed) queueMicrotask(this.onCloseA);
    if (b.destroyed) queueMicrotask(this.onCloseB);
  }

  private readonly onDataA = (chunk: Buffer): void => {
    this.result.aToB += chunk.length;
    const b = this.b;
    if (chunk.length >= BURST_CHUNK_BYTES && !this.corkedB) this.corkB();
    // Paused only after a refused write: that sets needDrain, so the 'drain' that resumes comes for sure.
    if (!b.write(chunk) && b.writableLength >= PIPE_BUFFER_BYTES) this.a.pause();
  };

  private readonly onDataB = (chunk: Buffer): void => {
    this.result.bToA += chunk.length;
    const a = this.a;
    if (chunk.length >= BURST_CHUNK_BYTES && !this.corkedA) this.corkA();
    if (!a.write(chunk) && a.writableLength >= PIPE_BUFFER_BYTES) this.b.pause();
  };

  private corkA(): void {
    this.corkedA = true;
    this.a.cork();
    if (!this.corkedB) endBurstThisIteration(this);
  }

  private corkB(): void {
    this.corkedB = true;
    this.b.cork();
    if (!this.corkedA) endBurstThisIteration(this);
  }

  /** Sends what the burst queued (one writev per side); end() may have uncorked a side already. */
  endBurst(): void {
    if (this.corkedA) {
      this.corkedA = false;
      this.a.uncork();
    }
    if (this.corkedB) {
      this.corkedB = false;
      this.b.uncork();
    }
  }

  private readonly onDrainB = (): void => {
    this.a.resume();
  };

  private readonly onDrainA = (): void => {
    this.b.resume();
  };

  private readonly onEndA = (): void => {
    if (!this.b.writableEnded) this.b.end();
  };

  private readonly onEndB = (): void => {
    if (!this.a.writableEnded) this.a.end();
  };

  private readonly onError = (err: Error): void => {
    this.result.error ??= err;
    abort(this.a);
    abort(this.b);
  };

  private readonly onCloseA = (): void => {
    if (this.closedA) return;
    this.closedA = true;
    this.onClose(this.a, this.b);
  };

  private readonly onCloseB = (): void => {
    if (this.closedB) return;
    this.closedB = true;
    this.onClose(this.b, this.a);
  };

  private onClose(side: Duplex, other: Duplex): void {
    // Closed without both directions finished: a reset or abort; the other side must not linger.
    if ((!side.readableEnded || !side.writableFinished) && !other.destroyed) abort(other);
    if (this.closedA && this.closedB) this.done(this.result);
  }
}
