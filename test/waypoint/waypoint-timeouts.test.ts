// Pins route timeouts: backendRequest 200 ms against a 1 s backend → 504 within 200–300 ms; `request`
// spans all retries (three 150 ms tries under a 250 ms request timeout → 504 near 250 ms); a disabled
// timeout ("0s", null in the model) lets a slow backend answer; a timeout mid-body resets the stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint timeouts', () => {
  let lab: Lab;
  let slow: Backend;
  let port: number;

  beforeAll(async () => {
    slow = await httpBackend((req, res) => {
      const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? '1000');
      if (req.url!.startsWith('/body')) {
        res.writeHead(200);
        res.write('first');
        setTimeout(() => res.end('late'), ms);
        return;
      }
      const t = setTimeout(() => res.end('slow'), ms);
      res.once('close', () => clearTimeout(t));
    });
    lab = await startLab();
    const s = service('slow', '10.96.0.20', 80, [slow]);
    const ref = [{ service: { namespace: 'demo', name: 'slow' }, port: 80 }];
    lab.setState({
      services: [s.service],
      workloads: s.workloads,
      routes: [
        route({
          name: 't',
          parents: [{ namespace: 'demo', name: 'slow' }],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/try' } }], timeouts: { backendRequestMs: 200 }, backendRefs: ref },
            { matches: [{ path: { type: 'PathPrefix', value: '/request' } }], timeouts: { requestMs: 250, backendRequestMs: 150 }, retry: { codes: [504], attempts: 5, grpcCodes: [] }, backendRefs: ref },
            { matches: [{ path: { type: 'PathPrefix', value: '/disabled' } }], timeouts: { requestMs: null, backendRequestMs: null }, backendRefs: ref },
            { matches: [{ path: { type: 'PathPrefix', value: '/body' } }], timeouts: { backendRequestMs: 300 }, backendRefs: ref },
          ],
        }),
      ],
    });
    port = await lab.listen('10.96.0.20:80');
  });
  afterAll(async () => {
    await lab.close();
    await slow.close();
  });

  it('backendRequest 200 ms against a 1 s backend → 504 in 200–300 ms', async () => {
    // Warm the connection so the measurement is the timeout, not the first connect.
    await (await request(`http://127.0.0.1:${port}/try?ms=1`)).body.text();
    // The best of three tries: the bound is the issue's, and a loaded 2-core machine adds scheduling noise
    // on top (never less), so the minimum is the measurement of the timeout itself.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await request(`http://127.0.0.1:${port}/try?ms=1000`);
      const ms = performance.now() - t0;
      expect(r.statusCode).toBe(504);
      expect(r.headers['x-weft-reason']).toBe('TIMEOUT');
      await r.body.text();
      expect(ms).toBeGreaterThanOrEqual(195);
      times.push(ms);
    }
    expect(Math.min(...times)).toBeLessThan(300);
  });

  it('request timeout spans retries', async () => {
    const t0 = performance.now();
    const r = await request(`http://127.0.0.1:${port}/request?ms=1000`);
    const ms = performance.now() - t0;
    expect(r.statusCode).toBe(504);
    expect(await r.body.text()).toContain('request timeout');
    expect(ms).toBeGreaterThanOrEqual(245);
    expect(ms).toBeLessThan(600);
    expect(slow.hits).toBeGreaterThanOrEqual(3); // warm-up + at least two tries
  });

  it('a disabled timeout waits for the backend', async () => {
    const r = await request(`http://127.0.0.1:${port}/disabled?ms=600`);
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('slow');
  });

  it('backendRequest covers the whole response: a body stalled past it is reset', async () => {
    const r = await request(`http://127.0.0.1:${port}/body?ms=2000`);
    expect(r.statusCode).toBe(200);
    await expect(r.body.text()).rejects.toThrow();
  });
});
