import type { Socket } from 'node:net';
import type { Logger } from '../../lib/telemetry/log.js';

export interface ReadyGateOptions {
  /** Connections held at most this long before they are reset (the agent did not become ready). */
  readonly holdMs: number;
  /** At most this many held connections; more are reset at once (bounded memory during a restart). */
  readonly maxHeld: number;
  readonly log: Logger;
}

/**
 * Holds the connections a restarted agent accepts on re-created pod listeners until it is ready (first
 * cluster state and certificates in). Without it, the first connections after a restart were handled
 * with an empty state: outbound ones passed through in plaintext and inbound ones were refused. Held
 * sockets are not read (their bytes wait in the kernel), released in arrival order when the gate opens,
 * and reset when they wait longer than `holdMs` or exceed `maxHeld`. Once open the gate costs one
 * boolean check per connection.
 */
export class ReadyGate {
  private opened = false;
  private held: { socket: Socket; run: () => void; timer: NodeJS.Timeout }[] = [];
  private dropped = 0;

  constructor(private readonly o: ReadyGateOptions) {}

  get isOpen(): boolean {
    return this.opened;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Runs `handle(socket)` now when open, else once the gate opens (or resets the socket on timeout). */
  admit(socket: Socket, handle: (socket: Socket) => void): void {
    if (this.opened) return handle(socket);
    if (this.held.length >= this.o.maxHeld) {
      this.drop(socket, 'too many connections held');
      return;
    }
    // Not paused explicitly: with no 'data' listener nothing flows (the kernel buffers), and the
    // handler's stream state stays as for a fresh connection.
    socket.on('error', () => socket.destroy());
    const entry = {
      socket,
      run: () => handle(socket),
      timer: setTimeout(() => {
        this.held = this.held.filter((e) => e !== entry);
        this.drop(socket, `agent not ready after ${this.o.holdMs} ms`);
      }, this.o.holdMs),
    };
    entry.timer.unref();
    this.held.push(entry);
  }

  /** Opens the gate and hands every held, still open connection to its handler. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    const held = this.held;
    this.held = [];
    let released = 0;
    for (const e of held) {
      clearTimeout(e.timer);
      if (e.socket.destroyed) continue;
      released++;
      e.run();
    }
    if (released > 0 || this.dropped > 0) this.o.log.info({ released, dropped: this.dropped }, 'released connections held until ready');
  }

  /** Resets every held connection (shutdown). */
  close(): void {
    for (const e of this.held) {
      clearTimeout(e.timer);
      e.socket.destroy();
    }
    this.held = [];
  }

  private drop(socket: Socket, reason: string): void {
    if (this.dropped++ === 0) this.o.log.warn({ reason }, 'resetting connections held while the agent is not ready');
    socket.resetAndDestroy();
  }
}
