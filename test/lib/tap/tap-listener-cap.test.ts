// Pins the tap endpoint's bounds and authorization over real HTTP: /debug/tap streams newline-delimited
// JSON (a hello line, then events as they happen); at most maxListeners streams are served at once, the
// next is refused with 503 ERR_WEFT_ADMIN_TAP_BUSY and let in once one leaves (weft_tap_listeners follows);
// only loopback peers are served (ERR_WEFT_ADMIN_TAP_FORBIDDEN otherwise), and only GET.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { TapHub, answerTap, isLoopback } from '../../../lib/tap/index.js';
import { eventually } from '../../support/eventually.js';
import { requestEvent } from './tap-events.js';

interface Open {
  readonly res: IncomingMessage;
  text: string;
  close(): void;
}

describe('tap endpoint', () => {
  const registry = new Registry();
  const hub = new TapHub({ registry, maxListeners: 3 });
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (!answerTap(req, res, hub, 'node agent t1')) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const open = (query = '', method = 'GET'): Promise<Open> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/debug/tap${query}`, method }, (res) => {
        const o: Open = { res, text: '', close: () => req.destroy() };
        res.setEncoding('utf8').on('data', (d: string) => (o.text += d));
        res.on('error', () => undefined);
        resolve(o);
      });
      req.on('error', reject);
      req.end();
    });

  it('streams a hello line, then the events its filter matches', async () => {
    const t = await open('?path=/api');
    expect(t.res.statusCode).toBe(200);
    expect(t.res.headers['content-type']).toBe('application/x-ndjson');
    await eventually(() => t.text.includes('hello'), 5_000, 'hello line');
    expect(JSON.parse(t.text.split('\n')[0])).toMatchObject({ type: 'hello', component: 'node agent t1', listeners: 1, maxListeners: 3 });
    hub.publish(requestEvent({ path: '/other' }));
    hub.publish(requestEvent({ path: '/api/1' }));
    await eventually(() => t.text.includes('/api/1'), 5_000, 'the event');
    expect(t.text).not.toContain('/other');
    t.close();
    await eventually(() => hub.size === 0, 5_000, 'listener detached when the client left');
    expect(hub.listening).toBe(false);
  });

  it('serves at most maxListeners at once and refuses the next with ERR_WEFT_ADMIN_TAP_BUSY', async () => {
    const taps = [await open(), await open(), await open()];
    await eventually(() => hub.size === 3, 5_000, 'three listeners');
    expect(await registry.metrics()).toMatch(/^weft_tap_listeners 3$/m);
    const busy = await open();
    expect(busy.res.statusCode).toBe(503);
    await eventually(() => busy.text.endsWith('}'), 5_000, 'refusal body');
    expect(JSON.parse(busy.text)).toMatchObject({ error: { code: 'ERR_WEFT_ADMIN_TAP_BUSY', params: { component: 'node agent t1', max: 3 } } });
    taps[0].close();
    await eventually(() => hub.size === 2, 5_000, 'one left');
    const again = await open();
    expect(again.res.statusCode).toBe(200);
    for (const t of [...taps, again]) t.close();
    await eventually(() => hub.size === 0, 5_000, 'all left');
    expect(await registry.metrics()).toMatch(/^weft_tap_listeners 0$/m);
  });

  it('answers GET only, and loopback peers only', async () => {
    const post = await open('', 'POST');
    expect(post.res.statusCode).toBe(405);
    expect(['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['10.244.1.5', '172.30.0.1', '::ffff:10.0.0.1', 'fe80::1', '', '128.0.0.1'].map(isLoopback)).toEqual([false, false, false, false, false, false]);
  });
});
