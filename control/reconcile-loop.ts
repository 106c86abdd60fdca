/**
 * The run loop every control-plane controller shares: changes `schedule` a pass after a debounce, at most
 * one pass runs at a time, and a change that arrives during a pass runs one more pass after it (changes
 * are coalesced, never lost). `stop` waits for the pass in flight.
 */
export class ReconcileLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly options: { debounceMs: number; onError: (err: unknown) => void },
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  schedule(delayMs = this.options.debounceMs): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves once no pass is pending or running (tests). */
  async idle(): Promise<void> {
    while (this.timer !== undefined || this.running !== undefined) {
      await (this.running ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  private kick(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }
}
