// Pins that the waypoint's HTTP/1.1 client never keeps a reference into its reused read buffer
// (waypoint/transport/connector.ts ReadRelay: every plain-TCP upstream socket reads into one shared
// buffer): many concurrent responses, small ones handed over whole with their head and large ones
// streamed, each with a body only its own request could have, must reach their clients byte for byte.
// A body kept as a view of the shared buffer is overwritten by the next read of any connection before
// it is written downstream, and this test sees the foreign bytes.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

/** The body the backend sends for request `i` of `size` bytes: a byte pattern only `i` produces. */
function bodyFor(i: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
}

describe('waypoint upstream reads into a reused buffer', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  const agent = new Agent({ connections: 64, pipelining: 0 });

  beforeAll(async () => {
    web = await httpBackend((req, res) => {
      const [, i, size] = /^\/b\/(\d+)\/(\d+)$/.exec(req.url ?? '') ?? [];
      const body = bodyFor(Number(i), Number(size));
      if (req.headers['x-length'] === 'yes') res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      else if (Number(size) > 64 * 1024) {
        // Written in pieces, without Content-Length: chunked, streamed through the waypoint.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let o = 0; o < body.length; o += 16 * 1024) res.write(body.subarray(o, o + 16 * 1024));
        res.end();
      } else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
    });
    lab = await startLab();
    const s = service('web', '10.96.7.1', 80, [web]);
    lab.setState({ services: [s.service], workloads: s.workloads, routes: [route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })] });
    port = await lab.listen('10.96.7.1:80');
  });
  afterAll(async () => {
    await agent.close();
    await lab.close();
    await web.close();
  });

  /**
   * A client that stops reading for a while after the first bytes: the waypoint holds the rest of the
   * response (downstream writes queued, the upstream body stream paused) while other reads go on.
   */
  async function slowGet(i: number, size: number): Promise<Buffer> {
    const s = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let paused = false;
    s.on('data', (c: Buffer) => {
      parts.push(c);
      if (!paused) {
        paused = true;
        s.pause();
        setTimeout(() => s.resume(), 400);
      }
    });
    s.write(`GET /b/${i}/${size} HTTP/1.1\r\nhost: web\r\nx-length: yes\r\nconnection: close\r\n\r\n`);
    await new Promise((resolve) => s.once('close', resolve));
    const all = Buffer.concat(parts);
    return all.subarray(all.indexOf('\r\n\r\n') + 4);
  }

  it('delivers every concurrent response body intact: whole, streamed, and held for a slow client', async () => {
    const slowSize = 4 * 1024 * 1024;
    const slow = Promise.all([1000, 1001, 1002].map(async (i) => ({ i, body: await slowGet(i, slowSize) })));
    await sleep(50);
    const sizes = [2, 700, 5_000, 40_000, 200_000];
    const jobs = Array.from({ length: 60 }, (_, i) => ({ i, size: sizes[i % sizes.length] }));
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(
        jobs.map(async ({ i, size }) => {
          const r = await request(`http://127.0.0.1:${port}/b/${i}/${size}`, { dispatcher: agent });
          return { i, size, status: r.statusCode, body: Buffer.from(await r.body.arrayBuffer()) };
        }),
      );
      for (const g of got) {
        expect(g.status).toBe(200);
        expect(g.body.length).toBe(g.size);
        expect(g.body.equals(bodyFor(g.i, g.size)), `body of request ${g.i} (${g.size} bytes)`).toBe(true);
      }
    }
    for (const g of await slow) {
      expect(g.body.length).toBe(slowSize);
      expect(g.body.equals(bodyFor(g.i, slowSize)), `body of slow request ${g.i}`).toBe(true);
    }
  });
});
