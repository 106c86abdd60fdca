// Pins endpoint selection: P2C over peak-EWMA sends most traffic to the faster of two endpoints; an
// endpoint failing 7 times in a row is ejected (backoff 1 s doubling to 60 s) and traffic flows to the
// healthy one; when every endpoint is ejected the balancer still picks one (fail open).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { EndpointStats, pickP2C } from '../../waypoint/balance/p2c-ewma.js';
import { OutlierState } from '../../waypoint/balance/outlier.js';
import { route, samePortBackends, service, startLab, type Backend, type Lab } from './harness.js';

describe('outlier ejection', () => {
  it('ejects after 7 consecutive failures with backoff 1 s → 60 s, and a success resets', () => {
    const o = new OutlierState();
    for (let i = 0; i < 6; i++) expect(o.failure(0)).toBe(false);
    expect(o.failure(0)).toBe(true);
    expect(o.ejected(999)).toBe(true);
    expect(o.ejected(1_001)).toBe(false);
    expect(o.failure(1_001)).toBe(true); // the probe after ejection fails: ejected again, longer
    expect(o.ejectedUntil).toBe(1_001 + 2_000);
    for (let i = 0; i < 10; i++) o.failure(10_000 * i);
    expect(o.ejectedUntil - 90_000).toBeLessThanOrEqual(60_000);
    o.success();
    expect(o.failure(200_000)).toBe(false);
  });

  it('picks among all endpoints when every one is ejected', () => {
    const a = { stats: new EndpointStats('a') };
    for (let i = 0; i < 7; i++) a.stats.outlier.failure(0);
    expect(pickP2C([a, { stats: a.stats }], 1)).toBeDefined();
  });

  it('peak EWMA: a slow sample replaces the average at once', () => {
    const s = new EndpointStats('x', undefined, undefined, 0);
    expect(s.load(0)).toBe(30);
    s.observe(500, 1);
    expect(s.rttMs).toBe(500);
    s.pending = 3;
    expect(s.load(1)).toBeCloseTo(2_000, -1);
  });
});

describe('waypoint balancing', () => {
  let lab: Lab;
  let backends: Backend[];
  let pool: Pool;
  let failing = '';

  beforeAll(async () => {
    backends = await samePortBackends(2, (req, res, b) => {
      if (b.ip === failing) {
        res.writeHead(503).end();
        return;
      }
      // The first backend is slow, the second fast.
      setTimeout(() => res.end(b.ip), b === backends[0] ? 40 : 1);
    });
    lab = await startLab();
    const s = service('web', '10.96.0.80', 80, backends);
    lab.setState({ services: [s.service], workloads: s.workloads, routes: [route({ name: 'r', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })] });
    pool = new Pool(`http://127.0.0.1:${await lab.listen('10.96.0.80:80')}`, { connections: 4 });
  });
  afterAll(async () => {
    await pool.close();
    await lab.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  async function run(n: number, concurrency: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let i = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i < n) {
          i++;
          const r = await pool.request({ method: 'GET', path: '/' });
          const k = r.statusCode === 200 ? await r.body.text() : String(r.statusCode);
          if (r.statusCode !== 200) await r.body.text();
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
      }),
    );
    return counts;
  }

  it('P2C peak-EWMA prefers the fast endpoint', async () => {
    const c = await run(300, 4);
    expect(c.get(backends[1].ip) ?? 0).toBeGreaterThan(2 * (c.get(backends[0].ip) ?? 0));
  });

  it('an endpoint failing 7 times in a row is ejected and traffic moves to the other', async () => {
    failing = backends[1].ip;
    await run(40, 1);
    const before = backends[1].hits;
    const c = await run(100, 2);
    // Ejected for ≥ 1 s: the 100 requests (well under a second... or a probe or two) go to the healthy one.
    expect(backends[1].hits - before).toBeLessThanOrEqual(3);
    expect(c.get(backends[0].ip) ?? 0).toBeGreaterThanOrEqual(97);
    const metrics = await lab.registry.metrics();
    expect(metrics).toMatch(/weft_endpoint_ejections_total\{backend="demo\/web:80"\} [1-9]/);
    failing = '';
  });
});
