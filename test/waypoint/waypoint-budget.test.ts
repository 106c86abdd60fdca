// Pins the retry budget: with a backend failing 100 %, retries stay within 20 % of requests plus 10/s over
// 10 s (instead of `attempts`× the load), and the exhaustion counter moves; the budget's window arithmetic.
// The waypoint runs on a fake clock that stands still, so all the requests fall in one window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { RetryBudget } from '../../waypoint/retry/budget.js';
import { FakeClock } from '../support/fake-clock.js';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('retry budget arithmetic', () => {
  it('allows 10/s × 10 s plus 20 % of requests, and frees up as the window slides', () => {
    let now = 0;
    const b = new RetryBudget(undefined, () => now);
    for (let i = 0; i < 1_000; i++) b.deposit();
    let granted = 0;
    while (b.withdraw()) granted++;
    expect(granted).toBe(100 + 200);
    now += 11_000;
    expect(b.withdraw()).toBe(true);
  });
});

describe('waypoint retry budget', () => {
  let lab: Lab;
  let down: Backend;
  let pool: Pool;

  beforeAll(async () => {
    down = await httpBackend((_q, res) => res.writeHead(503).end('down'));
    lab = await startLab({ clock: new FakeClock() });
    const s = service('down', '10.96.0.40', 80, [down]);
    lab.setState({
      services: [s.service],
      workloads: s.workloads,
      routes: [route({ name: 'r', parents: [{ namespace: 'demo', name: 'down' }], rules: [{ retry: { codes: [503], attempts: 3, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'down' }, port: 80 }] }] })],
    });
    pool = new Pool(`http://127.0.0.1:${await lab.listen('10.96.0.40:80')}`, { connections: 16 });
  });
  afterAll(async () => {
    await pool.close();
    await lab.close();
    await down.close();
  });

  it('caps retries when the backend fails 100 %', async () => {
    const n = 1_000;
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < n) {
          i++;
          const r = await pool.request({ method: 'GET', path: '/' });
          await r.body.text();
          expect(r.statusCode).toBe(503);
        }
      }),
    );
    const retries = down.hits - n;
    // Without a budget: 3 000 retries. With it, in the one 10 s window: ≤ 10/s × 10 s + 20 % of the requests.
    expect(retries).toBeGreaterThan(50);
    expect(retries).toBeLessThanOrEqual(100 + 0.2 * n);
    expect(retries).toBeLessThan(n);
    const text = await lab.registry.metrics();
    expect(text).toMatch(/weft_retry_budget_exhausted_total\{[^}]*\} \d+/);
  });
});
