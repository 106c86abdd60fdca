// Pins the waypoint's own HTTP/1.1 server and client (waypoint/downstream/http1-server.ts,
// waypoint/upstream/h1-*.ts, waypoint/h1/): pipelined
// requests are answered in order; HEAD, 204 and 304 carry no body; an HTTP/1.0 client gets a
// close-delimited or keep-alive response as it asked; chunked request bodies and chunked or
// close-delimited upstream responses are re-framed correctly; `Expect: 100-continue` is answered; bodies
// over the single-write limit stream both ways intact; and a request on a pooled connection the endpoint
// closed while idle is sent again on a fresh one instead of failing.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { httpBackend, route, service, startLab, podIp, type Backend, type Lab } from './harness.js';
import { WorkloadSchema, ServiceSchema } from '../../lib/model/index.js';

/** Sends raw bytes and collects everything until the server closes or `idleMs` passes without data. */
function raw(port: number, payload: string | Buffer, idleMs = 1_500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let timer = setTimeout(() => s.destroy(), idleMs);
    s.on('data', (c: Buffer) => {
      out += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), idleMs);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(payload);
  });
}

describe('waypoint HTTP/1.1 framing', () => {
  let lab: Lab;
  let web: Backend;
  let rawBackend: Server;
  let rawIp: string;
  let port: number;
  let rawPort: number;
  const rawSockets = new Set<Socket>();
  let rawConnections = 0;

  beforeAll(async () => {
    web = await httpBackend((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/empty') res.writeHead(204).end();
        else if (req.url === '/cached') res.writeHead(304, { etag: '"x"' }).end();
        else if (req.url?.startsWith('/big')) {
          // Not buffered upstream: written in pieces without a Content-Length (chunked on the wire).
          const piece = Buffer.alloc(64 * 1024, 0x61);
          for (let i = 0; i < 4; i++) res.write(piece);
          res.end();
        } else if (req.url === '/echo') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
        else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(`hello ${req.url}`)) }).end(req.method === 'HEAD' ? undefined : `hello ${req.url}`);
      });
    });
    // A backend sending close-delimited responses, and dropping a keep-alive connection when a second
    // request arrives on it (what an endpoint closing an idle connection looks like to the unlucky request).
    rawIp = podIp();
    rawBackend = createServer((s) => {
      rawConnections++;
      rawSockets.add(s);
      s.once('close', () => rawSockets.delete(s));
      let got = '';
      let served = 0;
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        if (got.startsWith('GET /close-delimited')) s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
        else if (served++ === 0) s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh');
        else s.destroy();
        got = '';
      });
    });
    await new Promise<void>((resolve) => rawBackend.listen(0, rawIp, resolve));
    const rawTarget = (rawBackend.address() as AddressInfo).port;

    lab = await startLab();
    const s = service('web', '10.96.3.1', 80, [web]);
    const rw = WorkloadSchema.parse({ uid: 'raw-0', name: 'raw-0', namespace: 'demo', serviceAccount: 'raw', ips: [rawIp], captured: true });
    const rs = ServiceSchema.parse({
      namespace: 'demo',
      name: 'raw',
      vips: ['10.96.3.2'],
      ports: [{ name: 'http', port: 80, targetPort: rawTarget }],
      endpoints: [{ workloadUid: 'raw-0', address: rawIp }],
      waypoint: { namespace: 'demo', name: 'waypoint', address: '127.0.0.1', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint' },
    });
    lab.setState({
      services: [s.service, rs],
      workloads: [...s.workloads, rw],
      routes: [
        route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] }),
        route({ name: 'raw', parents: [{ namespace: 'demo', name: 'raw' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'raw' }, port: 80 }] }] }),
      ],
    });
    port = await lab.listen('10.96.3.1:80');
    rawPort = await lab.listen('10.96.3.2:80');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
    for (const s of rawSockets) s.destroy();
    await new Promise<void>((resolve) => rawBackend.close(() => resolve()));
  });

  it('answers pipelined requests in order on one connection', async () => {
    const out = await raw(port, 'GET /a HTTP/1.1\r\nHost: web\r\n\r\nGET /b HTTP/1.1\r\nHost: web\r\n\r\nGET /c HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    const bodies = [...out.matchAll(/hello (\/\w)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['/a', '/b', '/c']);
    expect(out.match(/HTTP\/1\.1 200 /g)?.length).toBe(3);
    expect(out).toContain('connection: close');
  });

  it('sends no body for HEAD, 204 and 304, and the connection goes on', async () => {
    const out = await raw(port, 'HEAD /h HTTP/1.1\r\nHost: web\r\n\r\nGET /empty HTTP/1.1\r\nHost: web\r\n\r\nGET /cached HTTP/1.1\r\nHost: web\r\n\r\nGET /after HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '204', '304', '200']);
    expect(out).toMatch(/content-length: 8\r\n/); // HEAD keeps the length of the body it does not send
    expect(out).not.toContain('hello /h');
    expect(out).toContain('hello /after');
  });

  it('serves HTTP/1.0: close by default, keep-alive when asked', async () => {
    const closed = await raw(port, 'GET /old HTTP/1.0\r\n\r\n');
    expect(closed).toMatch(/^HTTP\/1\.1 200 /);
    expect(closed).toContain('connection: close');
    expect(closed).toContain('hello /old');
    const kept = await raw(port, 'GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /k2 HTTP/1.0\r\n\r\n');
    expect(kept).toContain('connection: keep-alive');
    expect(kept).toContain('hello /k1');
    expect(kept).toContain('hello /k2');
  });

  it('forwards a chunked request body and answers Expect: 100-continue', async () => {
    const out = await raw(port, 'POST /echo HTTP/1.1\r\nHost: web\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(out).toContain('hello world');
  });

  it('streams bodies larger than one write both ways, intact', async () => {
    const body = Buffer.alloc(300 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const r = await request(`http://127.0.0.1:${port}/echo`, { method: 'POST', body });
    expect(r.statusCode).toBe(200);
    expect(Buffer.from(await r.body.arrayBuffer()).equals(body)).toBe(true);
    const big = await request(`http://127.0.0.1:${port}/big`);
    expect(big.headers['transfer-encoding']).toBe('chunked');
    expect((await big.body.arrayBuffer()).byteLength).toBe(256 * 1024);
  });

  it('re-frames a close-delimited upstream response as chunked', async () => {
    const out = await raw(rawPort, 'GET /close-delimited HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out).toContain('transfer-encoding: chunked');
    expect(out).toContain('d\r\nuntil the end\r\n0\r\n\r\n');
  });

  it('retries a request whose pooled connection the endpoint had closed', async () => {
    const first = await request(`http://127.0.0.1:${rawPort}/one`);
    expect(await first.body.text()).toBe('fresh');
    const before = rawConnections;
    const second = await request(`http://127.0.0.1:${rawPort}/two`);
    expect(second.statusCode).toBe(200);
    expect(await second.body.text()).toBe('fresh');
    expect(rawConnections).toBe(before + 1);
  });
});
