import type { Socket } from 'node:net';
import { eventually } from './eventually.js';

/**
 * A long-lived connection to an echo server (a test's app or weft/tcp-echo), opened by the caller (e.g.
 * from inside a pod's netns, so the mesh captures it). `echo` sends a message and waits for it to come
 * back; `closed` settles when the socket closes, `error` holds what broke it, if anything.
 */
export class EchoConnection {
  private received = '';
  error: Error | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => (this.received += d));
    socket.on('error', (err: Error) => (this.error ??= err));
    // Sockets made with allowHalfOpen (the agent's socket factories) stay open after the peer's FIN:
    // end this side too, as an app would.
    socket.on('end', () => socket.end());
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Sends `msg` and waits (up to `timeoutMs`) until it has come back. */
  async echo(msg: string, timeoutMs = 15_000): Promise<void> {
    const before = this.received.length;
    this.socket.write(msg);
    await eventually(() => this.error ?? this.received.slice(before).includes(msg), timeoutMs, `echo of ${msg}`);
    if (this.error) throw this.error;
  }

  /** Everything received so far. */
  get text(): string {
    return this.received;
  }
}
