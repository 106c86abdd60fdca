import { constants as h2c, type Http2Session, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';

// Bounds how long an authenticated peer may hold an HBONE server session it does not use. A session with
// no open stream for `idleMs` is closed in three steps: a GOAWAY notice with last-stream-id 2^31-1 (no new
// streams, yet a CONNECT already crossing it on the wire is still served: nghttp2's shutdown notice), then
// after DRAIN_MS the graceful close (the final GOAWAY; streams still open finish first, never cut), then,
// DRAIN_MS after the last stream, the socket is destroyed, because a peer that never reads would keep
// the half-closed TCP connection forever. A session whose HTTP/2 preface (the peer's first SETTINGS)
// does not arrive within `prefaceMs` of the TLS handshake is dropped at once. The client pool closes its
// idle sessions after the same 5 min, so a weft peer normally leaves first; this catches the rest.
// Per stream this costs a counter and a 'close' listener; the idle timer is one Timeout per session,
// re-armed with refresh() when the last stream ends (it fires as a no-op while streams are open).

/** Between the GOAWAY notice and the close, and between the close and the forced end of the socket. */
export const DRAIN_MS = 1_000;
const LAST_STREAM_ID = 2 ** 31 - 1;

export type SessionCloseReason = 'idle' | 'no_preface';

export interface SessionIdleOptions {
  /** No open stream for this long closes the session; 0 never does. */
  readonly idleMs: number;
  /** The peer's HTTP/2 preface must arrive this soon after the TLS handshake. */
  readonly prefaceMs: number;
  /** Called once per session this module closes (metrics, log). */
  readonly onClose: (reason: SessionCloseReason, session: ServerHttp2Session) => void;
}

const enum Phase {
  Open,
  /** GOAWAY notice sent; the graceful close follows. */
  Notified,
  /** Graceful close under way; the socket goes DRAIN_MS after the last stream. */
  Closing,
  Done,
}

class TrackedSession {
  private streams = 0;
  private phase = Phase.Open;
  private readonly idle: NodeJS.Timeout | undefined;
  private preface: NodeJS.Timeout | undefined;
  private step: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: ServerHttp2Session,
    /** Ends the real socket: `session.socket` is a proxy that refuses destroy() and is gone once the session is. */
    private readonly endSocket: () => void,
    private readonly o: SessionIdleOptions,
  ) {
    if (o.idleMs > 0) {
      this.idle = setTimeout(this.onIdle, o.idleMs);
      this.idle.unref();
    }
    this.preface = setTimeout(this.onNoPreface, o.prefaceMs);
    this.preface.unref();
    session.once('remoteSettings', this.onPreface);
    session.once('close', this.stop);
  }

  streamOpened(stream: ServerHttp2Stream): void {
    this.streams++;
    // `on`, not `once`: 'close' comes once anyway and `once` allocates a wrapper per stream.
    stream.on('close', this.onStreamClose);
  }

  private readonly onStreamClose = (): void => {
    if (--this.streams > 0) return;
    if (this.phase === Phase.Open) this.idle?.refresh();
    else if (this.phase === Phase.Closing) this.later(this.onLinger);
  };

  private readonly onPreface = (): void => {
    if (this.preface !== undefined) clearTimeout(this.preface);
    this.preface = undefined;
  };

  private readonly onNoPreface = (): void => {
    this.preface = undefined;
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.o.onClose('no_preface', this.session);
    this.session.destroy();
    this.endSocket();
  };

  private readonly onIdle = (): void => {
    // Fired while streams are open (the timer is not cleared per stream): their end re-arms it.
    if (this.streams > 0 || this.phase !== Phase.Open) return;
    if (this.session.closed || this.session.destroyed) return;
    this.phase = Phase.Notified;
    this.o.onClose('idle', this.session);
    try {
      this.session.goaway(h2c.NGHTTP2_NO_ERROR, LAST_STREAM_ID);
    } catch {
      // the session is already going away
    }
    this.later(this.onDrained);
  };

  private readonly onDrained = (): void => {
    if (this.phase !== Phase.Notified) return;
    this.phase = Phase.Closing;
    if (!this.session.closed && !this.session.destroyed) this.session.close();
    if (this.streams === 0) this.later(this.onLinger);
  };

  private readonly onLinger = (): void => {
    if (this.streams > 0 || this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    this.session.destroy();
    this.endSocket();
  };

  private later(fn: () => void): void {
    if (this.step !== undefined) clearTimeout(this.step);
    this.step = setTimeout(fn, DRAIN_MS);
    this.step.unref();
  }

  private readonly stop = (): void => {
    this.phase = Phase.Done;
    if (this.idle !== undefined) clearTimeout(this.idle);
    if (this.preface !== undefined) clearTimeout(this.preface);
    if (this.step !== undefined) clearTimeout(this.step);
    this.preface = this.step = undefined;
  };
}

/** Idle and preface timers of an HBONE server's sessions. */
export class SessionIdle {
  private readonly tracked = new WeakMap<Http2Session, TrackedSession>();

  constructor(private readonly o: SessionIdleOptions) {}

  /** Starts the timers of an authenticated session. */
  track(session: ServerHttp2Session): void {
    // The proxy hands out the real socket's other methods bound to it; destroySoon() destroys it as soon
    // as what was written (the GOAWAY, TLS close_notify) has gone to the kernel.
    const endSocket = (session.socket as { destroySoon?: () => void }).destroySoon;
    this.tracked.set(session, new TrackedSession(session, endSocket ?? (() => session.destroy()), this.o));
  }

  /** Counts a stream of a tracked session until it closes. */
  streamOpened(stream: ServerHttp2Stream): void {
    const session = stream.session;
    if (session !== undefined) this.tracked.get(session)?.streamOpened(stream);
  }
}
