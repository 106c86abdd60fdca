// Pins weighted backendRefs: a 90/10 split over 2 000 requests lands within ±3 %, weight 0 never gets a
// request, an unresolved backendRef answers 500 for its share, a rule whose weights are all 0 answers 500,
// and a request no rule matches answers 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint weighted split', () => {
  let lab: Lab;
  let v1: Backend;
  let v2: Backend;
  let v3: Backend;
  let pool: Pool;

  beforeAll(async () => {
    v1 = await httpBackend((_q, s) => s.end('v1'));
    v2 = await httpBackend((_q, s) => s.end('v2'));
    v3 = await httpBackend((_q, s) => s.end('v3'));
    lab = await startLab();
    const web = service('web', '10.96.0.10', 80, []);
    const s1 = service('web-v1', '10.96.0.11', 80, [v1]);
    const s2 = service('web-v2', '10.96.0.12', 80, [v2]);
    const s3 = service('web-v3', '10.96.0.13', 80, [v3]);
    const ref = (name: string, weight: number) => ({ service: { namespace: 'demo', name }, port: 80, weight });
    lab.setState({
      services: [web.service, s1.service, s2.service, s3.service],
      workloads: [...s1.workloads, ...s2.workloads, ...s3.workloads],
      routes: [
        route({
          name: 'split',
          parents: [{ namespace: 'demo', name: 'web' }],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/split' } }], backendRefs: [ref('web-v1', 90), ref('web-v2', 10), ref('web-v3', 0)] },
            { matches: [{ path: { type: 'PathPrefix', value: '/half-invalid' } }], backendRefs: [ref('web-v1', 1), { weight: 1, invalidReason: 'Service demo/missing not found' }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/zero' } }], backendRefs: [ref('web-v1', 0)] },
            { matches: [{ path: { type: 'PathPrefix', value: '/missing-service' } }], backendRefs: [ref('nope', 1)] },
          ],
        }),
      ],
    });
    pool = new Pool(`http://127.0.0.1:${await lab.listen('10.96.0.10:80')}`, { connections: 16 });
  });
  afterAll(async () => {
    await pool.close();
    await lab.close();
    await Promise.all([v1.close(), v2.close(), v3.close()]);
  });

  async function run(path: string, n: number, concurrency = 16): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let i = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i < n) {
          i++;
          const r = await pool.request({ method: 'GET', path });
          const key = r.statusCode === 200 ? await r.body.text() : String(r.statusCode);
          if (r.statusCode !== 200) await r.body.text();
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }),
    );
    return counts;
  }

  it('90/10 over 2 000 requests within ±3 %, weight 0 never', async () => {
    const c = await run('/split', 2_000);
    const total = (c.get('v1') ?? 0) + (c.get('v2') ?? 0);
    expect(total).toBe(2_000);
    expect(Math.abs((c.get('v1') ?? 0) / 2_000 - 0.9)).toBeLessThanOrEqual(0.03);
    expect(c.get('v3')).toBeUndefined();
    expect(v3.hits).toBe(0);
  });

  it('an invalid backendRef answers 500 for its share only', async () => {
    const c = await run('/half-invalid', 400);
    expect((c.get('v1') ?? 0) + (c.get('500') ?? 0)).toBe(400);
    expect(c.get('500')).toBeGreaterThan(140);
    expect(c.get('v1')).toBeGreaterThan(140);
  });

  it('all weights 0 → 500', async () => {
    const r = await pool.request({ method: 'GET', path: '/zero' });
    expect(r.statusCode).toBe(500);
    expect(r.headers['x-weft-reason']).toBe('INVALID_BACKEND');
    await r.body.text();
  });

  it('a backendRef to a Service that does not exist → 500', async () => {
    const r = await pool.request({ method: 'GET', path: '/missing-service' });
    expect(r.statusCode).toBe(500);
    await r.body.text();
  });

  it('no matching rule → 404', async () => {
    const r = await pool.request({ method: 'GET', path: '/nothing-here' });
    expect(r.statusCode).toBe(404);
    expect(r.headers['x-weft-reason']).toBe('NO_ROUTE');
    await r.body.text();
  });
});
