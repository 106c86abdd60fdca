// Pins consumer routes at the waypoint (GAMMA): a route in namespace `other` attached to the Service
// demo/echo applies only to clients whose identity (the HBONE peer's SPIFFE ID) is in `other`; every other
// client gets the producer routes (the ones in demo), or passes through when there are none. The failure
// this pins: a route from any namespace took effect for every client of the Service, so one namespace
// could redirect another's traffic (and its clients' own namespace could not scope a route to itself).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLIENT_ID, httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

const OTHER_CLIENT = 'spiffe://cluster.local/ns/other/sa/app';
const THIRD_CLIENT = 'spiffe://cluster.local/ns/third/sa/app';

describe('waypoint consumer routes', () => {
  let lab: Lab;
  let echo: Backend;
  let canary: Backend;
  const ports = new Map<string, number>();

  beforeAll(async () => {
    const reply = (name: string) => (req: { headers: Record<string, unknown> }, res: { end(s: string): void }) => res.end(JSON.stringify({ name, producer: req.headers['x-producer'] ?? null }));
    echo = await httpBackend(reply('echo'));
    canary = await httpBackend(reply('canary'));
    lab = await startLab();
    const e = service('echo', '10.96.6.1', 80, [echo]);
    const e2 = service('bare', '10.96.6.2', 80, [echo]);
    const c = service('canary', '10.96.6.9', 80, [canary], { namespace: 'other' });
    const consumer = (name: string, parent: string, extra: Record<string, unknown> = {}) =>
      route({ namespace: 'other', name, parents: [{ namespace: 'demo', name: parent }], rules: [{ backendRefs: [{ service: { namespace: 'other', name: 'canary' }, port: 80 }] }], ...extra });
    lab.setState({
      services: [e.service, e2.service, c.service],
      workloads: [...e.workloads, ...c.workloads],
      routes: [
        // Oldest, so on a precedence tie it would win if routes of both namespaces were mixed.
        consumer('to-canary', 'echo', { creationTimestamp: '2020-01-01T00:00:00Z' }),
        consumer('bare-to-canary', 'bare'),
        consumer('hosted', 'echo', { hostnames: ['hosted.example'] }),
        route({
          name: 'producer',
          creationTimestamp: '2026-01-01T00:00:00Z',
          parents: [{ namespace: 'demo', name: 'echo' }],
          rules: [{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-producer', value: '1' }] } }], backendRefs: [{ service: { namespace: 'demo', name: 'echo' }, port: 80 }] }],
        }),
      ],
    });
    for (const [who, id] of [['demo', CLIENT_ID], ['other', OTHER_CLIENT], ['third', THIRD_CLIENT]] as const) {
      ports.set(`${who}/echo`, await lab.listen('10.96.6.1:80', id));
      ports.set(`${who}/bare`, await lab.listen('10.96.6.2:80', id));
    }
  });
  afterAll(async () => {
    await lab.close();
    await echo.close();
    await canary.close();
  });

  async function get(key: string, host?: string): Promise<{ name: string; producer: string | null }> {
    const r = await request(`http://127.0.0.1:${ports.get(key)!}/x`, host ? { headers: { host } } : {});
    expect(r.statusCode).toBe(200);
    return (await r.body.json()) as { name: string; producer: string | null };
  }

  it('clients of the consumer route namespace get the consumer route, instead of the producer routes', async () => {
    expect(await get('other/echo')).toEqual({ name: 'canary', producer: null });
    expect(await get('other/bare')).toEqual({ name: 'canary', producer: null });
  });

  it('clients of the Service namespace and of any other namespace get the producer route', async () => {
    expect(await get('demo/echo')).toEqual({ name: 'echo', producer: '1' });
    expect(await get('third/echo')).toEqual({ name: 'echo', producer: '1' });
  });

  it('without a producer route, everyone but the consumer namespace passes through', async () => {
    expect(await get('demo/bare')).toEqual({ name: 'echo', producer: null });
    expect(await get('third/bare')).toEqual({ name: 'echo', producer: null });
  });

  it('a consumer route for another hostname leaves its own clients to the other consumer routes', async () => {
    // `hosted` does not match this Host; `to-canary` (no hostnames) still applies to clients of `other`.
    expect(await get('other/echo', 'echo.demo')).toEqual({ name: 'canary', producer: null });
  });
});
