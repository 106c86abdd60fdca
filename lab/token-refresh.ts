import { Backoff } from '../lib/backoff.js';
import { realClock, type Clock, type ClockTimer } from '../lib/clock.js';
import type { Logger } from '../lib/telemetry/log.js';

/** A token as TokenRequest answers it: when it was asked for and when it expires (ms, on the clock's scale). */
export interface MintedToken {
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/** A kubelet requests a projected token again once this share of its lifetime has passed... */
export const REFRESH_AT_SHARE = 0.8;
/** ...and at least once a day, however long it lives (an API server may extend a token's expiry). */
export const REFRESH_AT_MOST_MS = 24 * 3600_000;

/**
 * Keeps a pod's projected ServiceAccount tokens fresh, as a kubelet's token manager does: each token file
 * is requested again at 80 % of its lifetime (at least daily), so a program that re-reads its token file
 * (the node agent does, before each Certify) never sends an expired one. Without it a lab pod's token
 * died with its first lifetime: the chart asks for 12 h, after which the agents could no longer renew
 * their certificates. A failed request is retried with backoff while the old token still lives.
 */
export class TokenRefresher {
  private readonly timers = new Map<string, ClockTimer>();
  private stopped = false;

  constructor(private readonly o: { readonly log: Logger; readonly clock?: Clock; readonly retry?: { initialMs: number; maxMs: number } }) {}

  private get clock(): Clock {
    return this.o.clock ?? realClock;
  }

  /**
   * Mints `file`'s token now (a failure goes to the caller: the container start fails and is retried),
   * then keeps it fresh until stop(). Starting the same file again (a restarted container) replaces its
   * schedule.
   */
  async start(file: string, mint: () => Promise<MintedToken>): Promise<void> {
    const token = await mint();
    this.schedule(file, mint, token);
  }

  /** The pod is gone: no more requests. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private schedule(file: string, mint: () => Promise<MintedToken>, token: MintedToken): void {
    if (this.stopped) return;
    const old = this.timers.get(file);
    if (old !== undefined) this.clock.clearTimeout(old);
    const lifetime = Math.max(0, token.expiresAtMs - token.issuedAtMs);
    const delay = Math.min(lifetime * REFRESH_AT_SHARE, REFRESH_AT_MOST_MS);
    const backoff = new Backoff({ initialMs: this.o.retry?.initialMs ?? 1000, maxMs: this.o.retry?.maxMs ?? 60_000 });
    const attempt = (): void => {
      this.timers.delete(file);
      if (this.stopped) return;
      mint().then(
        (next) => this.schedule(file, mint, next),
        (err: unknown) => {
          if (this.stopped) return;
          const wait = backoff.next();
          this.o.log.warn({ err, file, retryInMs: wait, expiresAt: new Date(Date.now() + (token.expiresAtMs - this.clock.now())).toISOString() }, 'refreshing a projected ServiceAccount token failed; retrying');
          this.timers.set(file, this.clock.setTimeout(attempt, wait));
        },
      );
    };
    this.timers.set(file, this.clock.setTimeout(attempt, delay));
  }
}
