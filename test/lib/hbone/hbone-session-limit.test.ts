// Pins the pool's session accounting: 101 tunnels opened at once to the same key share two sessions (at
// most 100 streams each, one connect in flight per key), all of them work, and a different source
// identity never rides on another identity's session.
import { describe, expect, it } from 'vitest';
import { mintWorkloadCert } from '../../support/pki.js';
import { createRegistry } from '../../../lib/telemetry/metrics.js';
import { hboneSuite, newPool, readAll, request, } from './hbone-fixture.js';

describe('hbone session limit', () => {
  const srv = hboneSuite();

  it('101 concurrent tunnels open exactly two sessions', { timeout: 60_000 }, async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const pool = newPool({ registry });
    try {
      const tunnels = await Promise.all(Array.from({ length: 101 }, () => pool.connect(request(srv.pki, srv.port, srv.echo.port))));
      expect(pool.stats()).toEqual({ sessions: 2, streams: 101 });
      expect(srv.hbone.stats().sessions).toBe(2);
      expect(await registry.getSingleMetricAsString('weft_hbone_client_sessions')).toMatch(/weft_hbone_client_sessions 2$/m);
      const answers = await Promise.all(
        tunnels.map((t, i) => {
          t.end(`tunnel ${i}`);
          return readAll(t).then((b) => b.toString());
        }),
      );
      expect(answers).toEqual(tunnels.map((_t, i) => `tunnel ${i}`));
      // Once those closed, new tunnels reuse the existing sessions instead of opening more.
      const again = await Promise.all(Array.from({ length: 10 }, () => pool.connect(request(srv.pki, srv.port, srv.echo.port))));
      expect(pool.stats().sessions).toBe(2);
      for (const t of again) t.destroy();
    } finally {
      pool.close({ force: true });
    }
  });

  it('another source identity gets its own session', async () => {
    const other = await mintWorkloadCert(srv.pki.ca, 'src', 'other');
    const pool = newPool();
    try {
      const a = await pool.connect(request(srv.pki, srv.port, srv.echo.port));
      const b = await pool.connect(request(srv.pki, srv.port, srv.echo.port, { source: other.identity, certificate: other }));
      expect(pool.stats().sessions).toBe(2);
      a.destroy();
      b.destroy();
    } finally {
      pool.close({ force: true });
    }
  });
});
