import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from '../lib/telemetry/log.js';

/** What the trimmer needs from the C library (node-agent/native/memory_trim.c through netns/native.ts). */
export interface MallocControl {
  /** Bytes free inside malloc's arenas; undefined where the C library cannot say (then nothing is trimmed). */
  mallocFreeBytes(): number | undefined;
  /** Gives those free pages back to the kernel; true when any were released. */
  mallocTrim(): boolean;
  /** A full V8 GC that shrinks the young generation and frees V8's pooled pages (memory pressure). */
  releaseV8Memory(): void;
}

export interface MemoryTrimOptions {
  readonly malloc: MallocControl;
  readonly logger: Logger;
  /** How often the free bytes are looked at (default 10 s, so memory is back well within a minute of load). */
  readonly intervalMs?: number;
  /** Trim once malloc holds at least this much free (default 8 MiB: below that a trim is not worth its walk). */
  readonly thresholdBytes?: number;
  /** Share of the last interval the event loop was busy (0..1); default: Node's event loop utilization. */
  readonly utilization?: () => number;
}

export const MEMORY_TRIM_INTERVAL_MS = 10_000;
export const MEMORY_TRIM_THRESHOLD_BYTES = 8 * 1024 * 1024;
/** Above this event-loop utilization the agent is serving load: no full GC then (it would add tens of ms
 *  to the requests in flight) and nothing to give back yet (freed memory is being reused). */
export const MEMORY_TRIM_MAX_UTILIZATION = 0.1;

/**
 * Gives memory back after load. What Node's native side (HTTP/2 streams, TLS, socket handles) allocated
 * for thousands of connections is freed when they close, but glibc keeps the free chunks and returns only
 * the top of each heap: measured with bench/conn-memory, 5 000 closed tunnels and a traffic burst left
 * ~45 MiB of RSS above idle for minutes, and V8 kept the pages its young generation had grown to. Every
 * `intervalMs`, while the agent is quiet, this looks at how much malloc holds free and, above
 * `thresholdBytes`, has V8 release its free pages (a full GC under memory pressure, tens of ms at most) and
 * trims malloc (malloc_trim(0)), so a quiet agent is back near its idle RSS within two intervals of the
 * load's end. An idle agent is not trimmed again and again (see check()); one check is a walk of
 * malloc's bins, microseconds, and a trim happens at most once per interval.
 */
export class MemoryTrimmer {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly thresholdBytes: number;
  private trims = 0;
  private freeAtLastTrim = Number.NEGATIVE_INFINITY;
  private readonly utilization: () => number;

  constructor(private readonly options: MemoryTrimOptions) {
    this.intervalMs = options.intervalMs ?? MEMORY_TRIM_INTERVAL_MS;
    this.thresholdBytes = options.thresholdBytes ?? MEMORY_TRIM_THRESHOLD_BYTES;
    this.utilization = options.utilization ?? eventLoopUtilization();
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Trims when the agent is quiet (event loop busy at most MEMORY_TRIM_MAX_UTILIZATION of the last
   * interval), malloc holds at least the threshold free and that amount moved by half the threshold since
   * the last trim; returns whether it trimmed. mallinfo still counts trimmed chunks as free (they stay
   * malloc's, only their pages went back), so "free is high" alone would trim an idle agent every interval;
   * a change means chunks were taken and given back since, i.e. pages were touched again.
   */
  check(): boolean {
    if (this.utilization() > MEMORY_TRIM_MAX_UTILIZATION) return false;
    const free = this.options.malloc.mallocFreeBytes();
    if (free === undefined || free < this.thresholdBytes || Math.abs(free - this.freeAtLastTrim) < this.thresholdBytes / 2) return false;
    // V8 first: its full GC also frees the native side of objects that were only waiting for it.
    this.options.malloc.releaseV8Memory();
    const released = this.options.malloc.mallocTrim();
    this.freeAtLastTrim = this.options.malloc.mallocFreeBytes() ?? free;
    this.trims++;
    this.options.logger.debug({ freeBytes: free, released, trims: this.trims }, 'gave free malloc memory back to the kernel');
    return true;
  }

  /** Trims done so far (admin, tests). */
  get count(): number {
    return this.trims;
  }
}

/** Event-loop utilization since the previous call (the first call: since the process started). */
function eventLoopUtilization(): () => number {
  let last: EventLoopUtilization | undefined;
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = last === undefined ? now : performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}
