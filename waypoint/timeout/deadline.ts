import type { Clock, ClockTimer } from '../../lib/clock.js';
import { WeftError } from '../../lib/errors/index.js';

// The timeout layer of the request path: Gateway API's two route timeouts. `request` spans every try and
// the response body; `backendRequest` bounds each try, again up to the end of its response body. Either
// one firing aborts the try's signal, which the upstream clients honour; with a request timeout, the
// client going away aborts the request too. A Deadline exists only for a request whose rule has a
// timeout: the common request has none and allocates no controller or timer.

/** The downstream side, as far as a deadline cares: it can go away before the response is complete. */
export interface ClientSide {
  readonly writableFinished: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export class Deadline {
  /** The request timeout fired. */
  requestTimedOut = false;
  /** The current try's backendRequest timeout fired. */
  tryTimedOut = false;
  /** The whole request, spanning tries: only with a request timeout. */
  private readonly whole: AbortController | undefined;
  private readonly requestTimer: ClockTimer | undefined;
  private tryCtl: AbortController | undefined;
  private tryTimer: ClockTimer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly client: ClientSide,
    /** Route label, for the timeout error. */
    private readonly route: string,
    readonly requestMs: number | null,
    readonly tryMs: number | null,
  ) {
    if (requestMs) {
      this.whole = new AbortController();
      this.requestTimer = clock.setTimeout(this.onRequestTimeout, requestMs);
      client.once('close', this.onClientGone);
      this.whole.signal.addEventListener('abort', this.onWholeAbort);
    }
  }

  /** Aborted: the request timed out or the client went away. */
  get aborted(): boolean {
    return this.whole?.signal.aborted ?? false;
  }

  /** Fires when the whole request is aborted (ends a backoff early). */
  get signal(): AbortSignal | undefined {
    return this.whole?.signal;
  }

  /** Starts a try: its signal aborts on its own timeout or with the whole request. */
  startTry(): AbortSignal {
    this.tryTimedOut = false;
    const ctl = (this.tryCtl = new AbortController());
    if (this.tryMs) this.tryTimer = this.clock.setTimeout(this.onTryTimeout, this.tryMs);
    if (this.aborted) ctl.abort();
    return ctl.signal;
  }

  /** The try is over (failed, or its response body has ended). */
  endTry(): void {
    if (this.tryTimer !== undefined) this.clock.clearTimeout(this.tryTimer);
    this.tryTimer = undefined;
    this.tryCtl = undefined;
  }

  /** The request is over: no timer or listener outlives it. */
  end(): void {
    this.endTry();
    if (this.requestTimer !== undefined) this.clock.clearTimeout(this.requestTimer);
    if (this.whole) this.client.off('close', this.onClientGone);
  }

  /** The 504 for whichever timeout fired (the request's wins: it also aborted the try). */
  error(): WeftError {
    const request = this.requestTimedOut;
    return new WeftError('ERR_WEFT_WAYPOINT_TIMEOUT', { which: request ? 'request' : 'backendRequest', ms: (request ? this.requestMs : this.tryMs) ?? 0, route: this.route });
  }

  private readonly onRequestTimeout = (): void => {
    this.requestTimedOut = true;
    this.whole!.abort();
  };

  private readonly onTryTimeout = (): void => {
    this.tryTimedOut = true;
    this.tryCtl?.abort();
  };

  private readonly onClientGone = (): void => {
    if (!this.client.writableFinished) this.whole!.abort();
  };

  private readonly onWholeAbort = (): void => this.tryCtl?.abort();
}
