// Pins `weft top`'s aggregation: requests grouped by source, destination Service, method and path, the
// hottest first; success as Istio counts it (a 5xx, a reset (status 0) or a gRPC status other than OK
// fail, a 4xx succeeds); latency percentiles over the row's requests; rows past --limit left out.
import { describe, expect, it } from 'vitest';
import { TopTable, topCells } from '../../cli/tap/top-table.js';
import { requestEvent } from '../lib/tap/tap-events.js';

describe('weft top table', () => {
  it('groups, ranks and rates requests', () => {
    const t = new TopTable();
    const add = (path: string, status: number, latencyMs: number, extra: { grpcStatus?: string; method?: string } = {}): void =>
      t.add({ ...requestEvent({ path, method: extra.method }), status, latencyMs, ...(extra.grpcStatus === undefined ? {} : { grpcStatus: extra.grpcStatus }) });
    for (let i = 1; i <= 8; i++) add('/hot', i <= 6 ? 200 : 503, i);
    add('/hot', 404, 100); // a 4xx is an answer, not a failure
    add('/grpc', 200, 2, { grpcStatus: '0' });
    add('/grpc', 200, 3, { grpcStatus: '14' });
    add('/reset', 0, 5);
    add('/hot', 200, 1, { method: 'POST' });

    const rows = t.rows(3);
    expect(rows.map((r) => [r.method, r.path, r.count])).toEqual([
      ['GET', '/hot', 9],
      ['GET', '/grpc', 2],
      ['POST', '/hot', 1],
    ]);
    expect(rows[0]).toMatchObject({ source: 'demo/client', destination: 'web.demo.svc.cluster.local', successRate: 7 / 9, latencyMs: { p50: 5, p95: 100, max: 100 } });
    expect(rows[1]?.successRate).toBe(0.5);
    expect(t.rows(10).find((r) => r.path === '/reset')?.successRate).toBe(0);
    expect(topCells(rows[0])).toEqual(['demo/client', 'web.demo.svc.cluster.local', 'GET', '/hot', '9', '77.8%', '5.0ms', '100.0ms', '100.0ms']);
  });
});
