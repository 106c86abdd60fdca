import { ReadRelay, type Connector, type UpstreamEndpoint } from '../transport/connector.js';
import type { UpstreamCallback, UpstreamRequest } from './exchange.js';
import { H1Connection, type ConnectionOwner } from './h1-connection.js';
import { abortError, Exchange } from './h1-exchange.js';

// The waypoint's HTTP/1.1 client to one endpoint: keep-alive connections (h1-connection.ts) from the
// connector (an HBONE tunnel, or TCP in tests), LIFO reuse, at most `maxConnections` with a FIFO queue
// behind them; idle connections are closed by the clients' sweep (clients.ts).

export interface H1PoolOptions {
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
}

export class H1Pool implements ConnectionOwner {
  private readonly idle: H1Connection[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;
  private closed = false;
  /** `address:port`, for errors. */
  readonly label: string;

  constructor(
    private readonly endpoint: UpstreamEndpoint,
    private readonly connector: Connector,
    private readonly o: H1PoolOptions,
  ) {
    this.label = `${endpoint.address}:${endpoint.port}`;
  }

  /** Sends `req`; `cb` gets the response head or the error (possibly before this returns). */
  request(req: UpstreamRequest, cb: UpstreamCallback): void {
    this.dispatch(new Exchange(req, cb));
  }

  dispatch(ex: Exchange): void {
    if (this.closed) {
      ex.reject(new Error('endpoint removed'));
      return;
    }
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.alive) {
        c.send(ex);
        return;
      }
    }
    if (this.open < this.o.maxConnections) {
      this.open++;
      const relay = new ReadRelay();
      this.connector.connect(this.endpoint, relay).then(
        (s) => {
          const c = new H1Connection(this, s, relay);
          if (this.closed) {
            c.destroy();
            ex.reject(new Error('endpoint removed'));
          } else c.send(ex);
        },
        (err: Error) => {
          this.open--;
          ex.reject(err);
          this.kick();
        },
      );
      return;
    }
    const signal = ex.req.signal;
    if (signal) {
      ex.onQueuedAbort = () => {
        const i = this.queue.indexOf(ex);
        if (i >= 0) this.queue.splice(i, 1);
        ex.reject(abortError());
      };
      signal.addEventListener('abort', ex.onQueuedAbort, { once: true });
    }
    this.queue.push(ex);
  }

  /** A connection finished its exchange and can serve another. */
  release(c: H1Connection): void {
    if (this.closed) {
      c.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next) {
      if (next.onQueuedAbort) next.req.signal?.removeEventListener('abort', next.onQueuedAbort);
      c.send(next);
      return;
    }
    c.idleSince = performance.now();
    this.idle.push(c);
  }

  removed(c: H1Connection): void {
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    this.kick();
  }

  private kick(): void {
    const next = this.queue.shift();
    if (next) {
      if (next.onQueuedAbort) next.req.signal?.removeEventListener('abort', next.onQueuedAbort);
      this.dispatch(next);
    }
  }

  /** Closes connections idle longer than the idle timeout. */
  sweep(now: number): void {
    for (const c of this.idle) if (now - c.idleSince > this.o.idleTimeoutMs) c.destroy();
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.destroy();
    for (const ex of this.queue.splice(0)) ex.reject(new Error('endpoint removed'));
  }
}
