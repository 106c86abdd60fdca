import type { Logger } from '../lib/telemetry/log.js';

export interface DrainOptions {
  /** How long live connections get to finish after the first signal (`--drain-ms`). */
  readonly graceMs: number;
  readonly log: Logger;
  /**
   * Stops taking new work: listeners closed (a successor agent's SO_REUSEPORT listeners take the new
   * connections), HBONE sessions told GOAWAY; live connections go on. Never removes capture rules or the
   * state file: the successor relies on them.
   */
  readonly stopAccepting: () => void;
  /** Connections (and HBONE sessions) still open. */
  readonly live: () => number;
  /** Closes whatever is left; called once, just before `exit`. */
  readonly finish: () => void;
  readonly exit: (code: number) => void;
  /** How often `live()` is read while draining. */
  readonly pollMs?: number;
}

/**
 * The node agent's graceful shutdown. The first SIGTERM/SIGINT stops accepting and waits until no
 * connection is left or `graceMs` has passed, then closes the rest and exits 0; a second signal ends the
 * wait at once. Before, a SIGTERM cut every live connection after 200 ms, so each `helm upgrade` broke
 * the long-lived connections of every pod on every node.
 */
export class Drain {
  private state: 'serving' | 'draining' | 'done' = 'serving';
  private wake: (() => void) | undefined;

  constructor(private readonly o: DrainOptions) {}

  get draining(): boolean {
    return this.state !== 'serving';
  }

  /** Handles a termination signal: the first starts the drain, a second finishes it now. */
  signal(name: string): void {
    if (this.state === 'serving') void this.run(name);
    else if (this.state === 'draining') {
      this.o.log.warn({ signal: name, live: this.o.live() }, 'second signal while draining; closing the remaining connections now');
      this.wake?.();
    }
  }

  /** Drains, then finishes and exits; resolves with why the wait ended. */
  async run(signal: string): Promise<'drained' | 'grace period over' | 'signal'> {
    if (this.state !== 'serving') return 'signal';
    this.state = 'draining';
    const started = Date.now();
    this.o.log.info({ signal, graceMs: this.o.graceMs, live: this.o.live() }, 'draining: no new connections; live ones get the grace period (capture rules and enrollments stay for the next agent)');
    try {
      this.o.stopAccepting();
    } catch (err) {
      this.o.log.error({ err }, 'cannot stop accepting; closing now');
    }
    const why = await this.waitIdle();
    this.state = 'done';
    const left = this.o.live();
    this.o.log.info({ why, ms: Date.now() - started, closing: left }, left > 0 ? 'drain over; closing the connections still open' : 'drained; exiting');
    try {
      this.o.finish();
    } finally {
      this.o.exit(0);
    }
    return why;
  }

  private waitIdle(): Promise<'drained' | 'grace period over' | 'signal'> {
    return new Promise((resolve) => {
      const done = (why: 'drained' | 'grace period over' | 'signal'): void => {
        clearInterval(poll);
        clearTimeout(grace);
        this.wake = undefined;
        resolve(why);
      };
      const check = (): void => {
        if (this.o.live() === 0) done('drained');
      };
      const poll = setInterval(check, this.o.pollMs ?? 100);
      const grace = setTimeout(() => done('grace period over'), this.o.graceMs);
      this.wake = () => done('signal');
      check();
    });
  }
}
