// Pins: Node's process metrics read `weft_process_*` / `weft_nodejs_*`, not `weft_process_process_*`
// (the prefix used to repeat prom-client's own `process_`).
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../lib/telemetry/metrics.js';

describe('process metric names', () => {
  it('carries the weft_ prefix once', async () => {
    const names = (await createRegistry().getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('weft_process_cpu_user_seconds_total');
    expect(names).toContain('weft_process_resident_memory_bytes');
    expect(names.some((n) => n.startsWith('weft_nodejs_'))).toBe(true);
    expect(names.filter((n) => n.includes('process_process') || !n.startsWith('weft_'))).toEqual([]);
  });
});
