// Pins retries: a backend failing 50 % with 503 gives success to every request one of whose 9 tries met a
// 200 with `retry.codes: [503]` (at 5
// requests/s, where the retry budget's floor of 10 retries/s covers the ~1 retry per request; faster, the
// budget caps retries on purpose, see waypoint-budget.test.ts); the
// backend sees `x-weft-attempt` counting tries; codes not listed are not retried; a POST body ≤ 64 KiB is
// replayed intact while a body over 64 KiB is streamed and never retried; `backoff` spaces tries.
// The waypoint runs on a fake clock: the request rate and the backoff are in its time, not the wall's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { FakeClock } from '../support/fake-clock.js';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint retries', () => {
  let lab: Lab;
  let flaky: Backend;
  let pool: Pool;
  const attemptsSeen: string[] = [];
  const bodiesSeen: number[] = [];
  let alwaysFailAt: number[] = [];
  /** What the flaky backend answered each request of the 50 % test, by its x-test-request id, in order. */
  const flakyAnswers = new Map<string, number[]>();
  const clock = new FakeClock();

  beforeAll(async () => {
    flaky = await httpBackend((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const attempt = String(req.headers['x-weft-attempt']);
        if (req.url!.startsWith('/always')) {
          attemptsSeen.push(attempt);
          alwaysFailAt.push(clock.now());
          res.writeHead(503).end('down');
          return;
        }
        if (req.url!.startsWith('/body')) {
          bodiesSeen.push(Buffer.concat(chunks).length);
          res.writeHead(bodiesSeen.length % 2 === 1 ? 503 : 200).end(String(Buffer.concat(chunks).length));
          return;
        }
        if (req.url!.startsWith('/500')) {
          res.writeHead(500).end('no');
          return;
        }
        const code = Math.random() < 0.5 ? 503 : 200;
        const id = String(req.headers['x-test-request']);
        flakyAnswers.set(id, [...(flakyAnswers.get(id) ?? []), code]);
        res.writeHead(code).end(attempt);
      });
    });
    lab = await startLab({ clock });
    const s = service('flaky', '10.96.0.30', 80, [flaky]);
    lab.setState({
      services: [s.service],
      workloads: s.workloads,
      routes: [
        route({
          name: 'retry',
          parents: [{ namespace: 'demo', name: 'flaky' }],
          rules: [{ retry: { codes: [503], attempts: 8, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'flaky' }, port: 80 }] }],
        }),
        // Separate routes: the retry budget is per route, so tests do not spend each other's budget.
        route({
          name: 'retry-always',
          parents: [{ namespace: 'demo', name: 'flaky' }],
          rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/always' } }], retry: { codes: [503], attempts: 3, backoffMs: 100, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'flaky' }, port: 80 }] }],
        }),
        route({
          name: 'retry-body',
          parents: [{ namespace: 'demo', name: 'flaky' }],
          rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/body' } }, { path: { type: 'PathPrefix', value: '/500' } }], retry: { codes: [503], attempts: 3, grpcCodes: [] }, backendRefs: [{ service: { namespace: 'demo', name: 'flaky' }, port: 80 }] }],
        }),
      ],
    });
    pool = new Pool(`http://127.0.0.1:${await lab.listen('10.96.0.30:80')}`, { connections: 8 });
  });
  afterAll(async () => {
    await pool.close();
    await lab.close();
    await flaky.close();
  });

  // At 5 requests/s the ~5 retries/s that 50 % failures need stay well inside the budget's 10 retries/s
  // floor; at 10/s they sit right on it and the budget (correctly) clips a few.
  it('50 % 503 → every request with a 200 among its 9 tries succeeds, over 150 requests at 5/s', async () => {
    let ok = 0;
    // 5 requests per second of the waypoint's time, sent 8 at a time (the pool's connections); the clock
    // moves 200 ms per request answered.
    let sent = 0;
    const statuses = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < 150) {
          const id = String(++sent);
          const r = await pool.request({ method: 'GET', path: '/flaky', headers: { 'x-test-request': id } });
          await r.body.text();
          if (r.statusCode === 200) ok++;
          statuses.set(id, r.statusCode);
          clock.advance(200);
        }
      }),
    );
    // Exact, whatever the coin flips: a request fails only when all 9 tries (8 retries, none clipped by
    // the budget at this rate) met a 503, and succeeds whenever one try met a 200. 50 % failures leave
    // 150 x 2^-9 ≈ 0.3 requests failing on average, so the ratio itself is pinned loosely.
    for (const [id, status] of statuses) {
      const answers = flakyAnswers.get(id) ?? [];
      if (answers.includes(200)) expect({ id, status }).toEqual({ id, status: 200 });
      else expect({ id, status, tries: answers.length }).toEqual({ id, status: 503, tries: 9 });
    }
    expect(statuses.size).toBe(150);
    expect(ok / 150).toBeGreaterThanOrEqual(0.95);
  });

  it('x-weft-attempt counts tries and backoff spaces them', async () => {
    attemptsSeen.length = 0;
    alwaysFailAt = [];
    const r = await clock.runUntil(pool.request({ method: 'GET', path: '/always' }));
    await r.body.text();
    expect(r.statusCode).toBe(503);
    expect(attemptsSeen).toEqual(['1', '2', '3', '4']);
    // backoffMs 100 with jitter: each wait is 50–100 ms of the waypoint's time.
    for (let k = 1; k < alwaysFailAt.length; k++) expect(alwaysFailAt[k] - alwaysFailAt[k - 1]).toBeGreaterThanOrEqual(50);
  });

  it('a code not in retry.codes is not retried', async () => {
    const before = flaky.hits;
    const r = await pool.request({ method: 'GET', path: '/500' });
    await r.body.text();
    expect(r.statusCode).toBe(500);
    expect(flaky.hits - before).toBe(1);
  });

  it('a small body is replayed intact; a body over 64 KiB is not retried', async () => {
    bodiesSeen.length = 0;
    const small = Buffer.alloc(32 * 1024, 'a');
    const r1 = await pool.request({ method: 'POST', path: '/body', body: small });
    expect(r1.statusCode).toBe(200);
    expect(await r1.body.text()).toBe(String(small.length));
    expect(bodiesSeen).toEqual([small.length, small.length]);

    bodiesSeen.length = 0;
    const big = Buffer.alloc(100 * 1024, 'b');
    const r2 = await pool.request({ method: 'POST', path: '/body', body: big });
    await r2.body.text();
    expect(r2.statusCode).toBe(503);
    expect(bodiesSeen).toEqual([big.length]);
  });
});
