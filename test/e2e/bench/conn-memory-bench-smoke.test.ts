// bench/conn-memory still builds and runs (50 idle connections, one second of load, 3 s settle; no target
// enforced) and records, for both agent roles, the memory points, the per-connection slope and the
// after-load ratio, with the run record.
import { describe, expect, it } from 'vitest';
import { runBench } from '../../support/bench-run.js';

interface Variant {
  points: { label: string; client: Record<string, number>; server: Record<string, number> }[];
  perConnectionBytes: { client: Record<string, number>; server: Record<string, number> };
  afterLoadRatio: { client: number; server: number };
}

describe('bench/conn-memory smoke', () => {
  it('measures idle, open connections and after load for the client and server roles', async () => {
    const r = await runBench('conn-memory', ['--conns', '50', '--settle', '3', '--load-seconds', '1']);
    const v = (r.results as Record<string, Variant>).current;
    expect(v.points.map((p) => p.label)).toEqual(['idle', '50 idle connections', 'connections closed', 'load just stopped', '3 s after load']);
    for (const p of v.points) for (const role of [p.client, p.server]) expect(role.vmRss).toBeGreaterThan(0);
    expect(v.perConnectionBytes.client.heapUsed).toBeGreaterThan(0);
    expect(v.perConnectionBytes.server.heapUsed).toBeGreaterThan(0);
    expect(v.afterLoadRatio.client).toBeGreaterThan(0);
  });
});
