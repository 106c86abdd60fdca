// Pins how the node agent gives memory back after load (node-agent/memory-trim.ts): while it is quiet it
// trims once malloc holds enough free memory, not again while that stays put (an idle agent), again after the free amount
// moved (another burst came and went), never where the C library cannot say; and the addon's two calls.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryTrimmer, MEMORY_TRIM_INTERVAL_MS, MEMORY_TRIM_THRESHOLD_BYTES, type MallocControl } from '../../node-agent/memory-trim.js';
import { nativeNetns } from '../../node-agent/netns/native.js';
import { silentLogger } from '../../lib/telemetry/log.js';

const MiB = 1024 * 1024;

/** malloc as the trimmer sees it: `free` bytes inside the arenas, of which a trim gives back the top. */
class ArenaModel implements MallocControl {
  free: number | undefined = 0;
  top = 0;
  trims = 0;
  v8Releases = 0;
  releaseV8Memory(): void {
    this.v8Releases++;
  }
  mallocFreeBytes(): number | undefined {
    return this.free;
  }
  mallocTrim(): boolean {
    this.trims++;
    if (this.free === undefined) return false;
    this.free -= this.top;
    this.top = 0;
    return true;
  }
}

describe('MemoryTrimmer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('trims once malloc holds the threshold free, and not again while an idle agent holds the same', () => {
    vi.useFakeTimers();
    const arena = new ArenaModel();
    const trimmer = new MemoryTrimmer({ malloc: arena, logger: silentLogger, utilization: () => 0 });
    trimmer.start();
    arena.free = MEMORY_TRIM_THRESHOLD_BYTES - 1;
    vi.advanceTimersByTime(3 * MEMORY_TRIM_INTERVAL_MS);
    expect(arena.trims).toBe(0);
    // Load stopped: 40 MiB of closed connections' memory is free, 1 MiB of it at the top of a heap.
    arena.free = 40 * MiB;
    arena.top = 1 * MiB;
    vi.advanceTimersByTime(MEMORY_TRIM_INTERVAL_MS);
    expect(arena.trims).toBe(1);
    vi.advanceTimersByTime(30 * MEMORY_TRIM_INTERVAL_MS);
    expect(arena.trims).toBe(1);
    expect(arena.v8Releases).toBe(1);
    trimmer.stop();
  });

  it('trims again after another burst moved the free amount by half the threshold, and stops when stopped', () => {
    vi.useFakeTimers();
    const arena = new ArenaModel();
    const trimmer = new MemoryTrimmer({ malloc: arena, logger: silentLogger, intervalMs: 1000, thresholdBytes: 8 * MiB, utilization: () => 0 });
    trimmer.start();
    arena.free = 20 * MiB;
    vi.advanceTimersByTime(1000);
    expect(arena.trims).toBe(1);
    arena.free += 3 * MiB; // less than half the threshold: noise, not a burst
    vi.advanceTimersByTime(5000);
    expect(arena.trims).toBe(1);
    arena.free += 2 * MiB; // 5 MiB since the trim
    vi.advanceTimersByTime(1000);
    expect(arena.trims).toBe(2);
    arena.free = 10 * MiB; // a burst reused chunks; fewer free now, still above the threshold
    vi.advanceTimersByTime(1000);
    expect(arena.trims).toBe(3);
    trimmer.stop();
    arena.free = 60 * MiB;
    vi.advanceTimersByTime(10_000);
    expect(arena.trims).toBe(3);
  });

  it('waits while the agent serves load (busy event loop), then trims once it is quiet', () => {
    const arena = new ArenaModel();
    let busy = 0.6;
    const trimmer = new MemoryTrimmer({ malloc: arena, logger: silentLogger, utilization: () => busy });
    arena.free = 50 * MiB;
    expect(trimmer.check()).toBe(false);
    expect(arena.trims + arena.v8Releases).toBe(0);
    busy = 0.02;
    expect(trimmer.check()).toBe(true);
    expect(arena.trims).toBe(1);
    expect(arena.v8Releases).toBe(1);
  });

  it('never trims where the C library cannot say what it holds free', () => {
    const arena = new ArenaModel();
    arena.free = undefined;
    const trimmer = new MemoryTrimmer({ malloc: arena, logger: silentLogger, utilization: () => 0 });
    expect(trimmer.check()).toBe(false);
    expect(arena.trims).toBe(0);
    expect(arena.v8Releases).toBe(0);
  });
});

describe('native malloc calls (node-agent/native/memory_trim.c)', () => {
  it('reports the bytes malloc holds free and trims them (glibc)', () => {
    const native = nativeNetns();
    const free = native.mallocFreeBytes();
    expect(typeof free).toBe('number');
    expect(free).toBeGreaterThanOrEqual(0);
    expect(typeof native.mallocTrim()).toBe('boolean');
    expect(native.releaseV8Memory()).toBeUndefined();
    // A trim keeps the chunks malloc's: what it counts as free afterwards is still a count.
    expect(native.mallocFreeBytes()).toBeGreaterThanOrEqual(0);
  });
});
