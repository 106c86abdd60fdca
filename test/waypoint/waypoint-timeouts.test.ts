// Pins route timeouts: backendRequest 200 ms against a 1 s backend → 504 after 200 ms; `request` spans
// all retries (150 ms tries under a 250 ms request timeout → a second try, then 504 at 250 ms); a disabled
// timeout ("0s", null in the model) lets a slow backend answer; a timeout mid-body resets the stream.
// The waypoint runs on a fake clock: its timeouts fire when the test moves time, at exact times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { eventually } from '../support/eventually.js';
import { FakeClock } from '../support/fake-clock.js';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

describe('waypoint timeouts', () => {
  let lab: Lab;
  let slow: Backend;
  let port: number;
  const clock = new FakeClock();

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
    lab = await startLab({ clock });
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

  it('backendRequest 200 ms against a 1 s backend → 504 after 200 ms', async () => {
    // Warm the connection so the first try is not also a connect.
    await (await request(`http://127.0.0.1:${port}/try?ms=1`)).body.text();
    const t0 = clock.now();
    // runUntil moves the clock only to the waypoint's own timers: the 504 comes from the 200 ms one.
    const r = await clock.runUntil(request(`http://127.0.0.1:${port}/try?ms=1000`));
    expect(r.statusCode).toBe(504);
    expect(r.headers['x-weft-reason']).toBe('TIMEOUT');
    await r.body.text();
    expect(clock.now() - t0).toBe(200);
  });

  it('request timeout spans retries', async () => {
    const before = slow.hits;
    const t0 = clock.now();
    const pending = request(`http://127.0.0.1:${port}/request?ms=1000`);
    await eventually(() => slow.hits === before + 1, 15_000, 'first try at the backend');
    clock.advance(150); // the first try times out; 504 is retryable, so a second try goes out
    await eventually(() => slow.hits === before + 2, 15_000, 'second try at the backend');
    clock.advance(100); // the request timeout (250 ms) ends it
    const r = await pending;
    expect(r.statusCode).toBe(504);
    expect(await r.body.text()).toContain('request timeout');
    expect(clock.now() - t0).toBe(250);
  });

  it('a disabled timeout waits for the backend', async () => {
    const before = slow.hits;
    const pending = request(`http://127.0.0.1:${port}/disabled?ms=100`);
    await eventually(() => slow.hits === before + 1, 15_000, 'the request at the backend');
    clock.advance(3_600_000); // an hour of the waypoint's time: no timer to fire
    const r = await pending;
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('slow');
  });

  it('backendRequest covers the whole response: a body stalled past it is reset', async () => {
    const r = await request(`http://127.0.0.1:${port}/body?ms=2000`);
    expect(r.statusCode).toBe(200);
    const text = r.body.text();
    clock.advance(300);
    await expect(text).rejects.toThrow();
  });
});
