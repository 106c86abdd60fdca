/**
 * Lets an event that can repeat thousands of times a second (a bound hit, a failing accept) be logged at
 * most once per key and interval, saying how many were left out since the last line. Keys must come
 * from a fixed set (a kind, a scope), never from a peer's address: the table of keys is never pruned.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * When a line for `key` may be written now: how many were suppressed since the last one (log it).
   * Otherwise undefined, and this one is counted as suppressed.
   */
  due(key: string): number | undefined {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    this.last.set(key, { at: t, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}
