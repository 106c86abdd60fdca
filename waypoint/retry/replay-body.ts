import { PassThrough, type Readable } from 'node:stream';

// A request body that can be sent again: the first attempt streams it live while a copy of up to
// `limit` bytes is kept (Linkerd's approach: no waiting for the whole body, so streaming RPCs never
// deadlock). A retry is possible only once the body has ended within the limit; bodies over 64 KiB are
// never buffered and never retried.

export const REPLAY_LIMIT_BYTES = 64 * 1024;

export class ReplayableBody {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private ended = false;
  private failed = false;
  private live: PassThrough | undefined;
  /** Chunks read before the first attempt attached (hold-back of chunked bodies). */
  private early: Buffer[] | undefined = [];
  private readonly endWaiters: Array<(ok: boolean) => void> = [];

  constructor(
    private readonly source: Readable,
    private readonly limit = REPLAY_LIMIT_BYTES,
  ) {
    source.on('data', (c: Buffer) => {
      if (this.early) this.early.push(c);
      if (this.overflowed) return;
      this.size += c.length;
      if (this.size > this.limit) {
        this.overflowed = true;
        this.chunks = [];
        this.settle(false);
      } else this.chunks.push(c);
    });
    source.once('end', () => {
      this.ended = true;
      this.settle(!this.overflowed);
    });
    source.once('error', () => {
      this.failed = true;
      this.settle(false);
    });
    source.once('close', () => {
      if (!this.ended) {
        this.failed = true;
        this.settle(false);
      }
    });
  }

  private settle(ok: boolean): void {
    for (const w of this.endWaiters.splice(0)) w(ok);
  }

  /** True when the client's body broke (a parse error or a reset) before it ended. */
  get broken(): boolean {
    return this.failed;
  }

  /**
   * Holds the body back until it has ended or `limit` bytes have arrived (or it broke): lets the HTTP/1.1
   * side refuse bad chunking before anything is forwarded.
   */
  async holdBack(): Promise<void> {
    if (this.ended || this.overflowed || this.failed) return;
    await new Promise<void>((resolve) => this.endWaiters.push(() => resolve()));
  }

  /** True while a retry could still be possible. */
  get replayable(): boolean {
    return !this.overflowed && !this.failed;
  }

  /** The body for the next attempt: live on the first call, from the copy afterwards. */
  next(): Readable | Buffer {
    if (!this.live) {
      const live = (this.live = new PassThrough());
      const early = this.early!;
      this.early = undefined;
      for (const c of early) live.write(c);
      if (this.ended) live.end();
      else this.source.pipe(live);
      return live;
    }
    return Buffer.concat(this.chunks);
  }

  /** Waits until the whole body has arrived within the limit; false if it cannot be replayed. */
  async complete(): Promise<boolean> {
    if (this.ended) return !this.overflowed;
    if (!this.replayable) return false;
    // The abandoned attempt no longer reads; keep draining the client into the copy.
    if (this.live) {
      this.source.unpipe(this.live);
      this.live.destroy();
      this.source.resume();
    }
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /** The whole body once it has ended within the limit, without disturbing the live attempt (mirrors). */
  whenEnded(): Promise<Buffer | undefined> {
    if (this.ended || !this.replayable) return Promise.resolve(this.copy());
    return new Promise((resolve) => this.endWaiters.push(() => resolve(this.copy())));
  }

  /** Bytes kept so far (for mirrors of small bodies). */
  copy(): Buffer | undefined {
    return this.ended && !this.overflowed ? Buffer.concat(this.chunks) : undefined;
  }
}
