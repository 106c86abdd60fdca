// Pins the caps of the waypoint's chunked decoding (waypoint/h1/chunked.ts). The failure: a chunked request
// whose chunk-size line carried 100 kB of extensions was accepted and forwarded (Node's llhttp binding
// refuses past 16 KiB per line since CVE-2024-22019; without a cap a client streams extensions forever),
// short trailer lines were only partly counted against the 16 KiB trailer cap, and an endpoint answering
// with oversize extensions was passed through. Now: over 16 KiB of extensions on one chunk-size line
// (cumulative over its parameters, reset per line) or of trailers is refused with 400 and the connection
// closed, logged once (ERR_WEFT_WAYPOINT_BAD_REQUEST), counted (weft_waypoint_bad_requests_total), never
// forwarded, and other connections go on; such a response from an endpoint is answered with 502.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkloadSchema, ServiceSchema } from '../../lib/model/index.js';
import { httpBackend, podIp, route, service, startLab, type Backend, type Lab } from './harness.js';

const CAP = 16 * 1024;

/** `;a=b;a=b...` of exactly `bytes` bytes (counted from the first `;`), several parameters as a client sends. */
function extensions(bytes: number): string {
  let s = '';
  while (bytes - s.length >= 12) s += ';n=vvv';
  return `${s};${'x'.repeat(bytes - s.length - 1)}`;
}

function chunkedPost(body: string, path = '/echo'): string {
  return `POST ${path} HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`;
}

interface RawResult {
  readonly out: string;
  /** The waypoint ended or reset the connection (not our own give-up timer). */
  readonly closedByPeer: boolean;
}

/** Writes `payload` in one write and reads until the waypoint closes (or 5 s pass). */
function raw(port: number, payload: string): Promise<RawResult> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let closedByPeer = false;
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('end', () => (closedByPeer = true));
    s.on('error', () => (closedByPeer = true));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ out, closedByPeer });
    });
    s.write(payload);
  });
}

describe('waypoint HTTP/1.1 chunk extension, chunk-size line and trailer caps', () => {
  let lab: Lab;
  let web: Backend;
  let badEndpoint: Server;
  const badSockets = new Set<Socket>();
  let port: number;
  let badPort: number;
  const seen: string[] = [];
  const logLines: Array<Record<string, unknown>> = [];

  const refusals = (): number => logLines.filter((l) => l.code === 'ERR_WEFT_WAYPOINT_BAD_REQUEST').length;
  const counted = async (): Promise<number> => {
    const m = await lab.registry.getSingleMetric('weft_waypoint_bad_requests_total')!.get();
    return m.values.filter((v) => v.labels.destination_service === 'web.demo.svc.cluster.local').reduce((a, v) => a + v.value, 0);
  };

  beforeAll(async () => {
    web = await httpBackend((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.concat(chunks)));
    });
    // An endpoint whose chunked response carries 20 KiB of extensions on its first chunk-size line (one
    // write: the waypoint reads head and extensions together).
    const badIp = podIp();
    badEndpoint = createServer((s) => {
      badSockets.add(s);
      s.once('close', () => badSockets.delete(s));
      s.on('error', () => undefined);
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        got = '';
        s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5${extensions(20 * 1024)}\r\nhello\r\n0\r\n\r\n`);
      });
    });
    await new Promise<void>((resolve) => badEndpoint.listen(0, badIp, resolve));
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
          cb();
        },
      }),
    );
    lab = await startLab({ log });
    const s = service('web', '10.96.7.1', 80, [web]);
    const bw = WorkloadSchema.parse({ uid: 'bad-0', name: 'bad-0', namespace: 'demo', serviceAccount: 'bad', ips: [badIp], captured: true });
    const bs = ServiceSchema.parse({
      namespace: 'demo',
      name: 'bad',
      vips: ['10.96.7.2'],
      ports: [{ name: 'http', port: 80, targetPort: (badEndpoint.address() as AddressInfo).port }],
      endpoints: [{ workloadUid: 'bad-0', address: badIp }],
      waypoint: { namespace: 'demo', name: 'waypoint', address: '127.0.0.1', identity: 'spiffe://cluster.local/ns/demo/sa/waypoint' },
    });
    lab.setState({
      services: [s.service, bs],
      workloads: [...s.workloads, bw],
      routes: [
        route({ name: 'web', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] }),
        route({ name: 'bad', parents: [{ namespace: 'demo', name: 'bad' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'bad' }, port: 80 }] }] }),
      ],
    });
    port = await lab.listen('10.96.7.1:80');
    badPort = await lab.listen('10.96.7.2:80');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
    for (const s of badSockets) s.destroy();
    await new Promise<void>((resolve) => badEndpoint.close(() => resolve()));
  });

  it('refuses 100 kB of extensions on one chunk-size line: the connection is closed, nothing is forwarded', async () => {
    seen.length = 0;
    const r = await raw(port, chunkedPost(`5${extensions(100_000)}\r\nhello\r\n0\r\n\r\n`));
    expect(r.closedByPeer).toBe(true);
    // The 400 goes out before the close; the rest of the 100 kB still unread may turn the close into a reset.
    expect(r.out === '' || r.out.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(seen).toEqual([]);
  });

  it('answers 400 one byte over the cap, logs the refusal once and counts it', async () => {
    seen.length = 0;
    const logsBefore = refusals();
    const countBefore = await counted();
    const r = await raw(port, chunkedPost(`5${extensions(CAP + 1)}\r\nhello\r\n0\r\n\r\n`));
    expect(r.out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(r.out).toContain('x-weft-reason: BAD_REQUEST');
    expect(r.out).toContain('connection: close');
    expect(r.closedByPeer).toBe(true);
    expect(seen).toEqual([]);
    expect(refusals() - logsBefore).toBe(1);
    const line = logLines.filter((l) => l.code === 'ERR_WEFT_WAYPOINT_BAD_REQUEST').at(-1)!;
    expect(line.reason).toBe('chunk extensions too large');
    expect(line.level).toBe(40); // warn
    expect(await counted()).toBe(countBefore + 1);
  });

  it('accepts exactly 16 KiB of extensions per line, the cap applying to each line anew', async () => {
    seen.length = 0;
    const atCap = await raw(port, chunkedPost(`5${extensions(CAP)}\r\nhello\r\n0\r\n\r\n`));
    expect(atCap.out).toMatch(/^HTTP\/1\.1 200 /);
    expect(atCap.out).toContain('hello');
    // Three lines of 12 KiB each: 36 KiB in the body, under the cap on every line.
    const perLine = await raw(port, chunkedPost(`3${extensions(12 * 1024)}\r\nabc\r\n3${extensions(12 * 1024)}\r\ndef\r\n3${extensions(12 * 1024)}\r\nghi\r\n0\r\n\r\n`));
    expect(perLine.out).toMatch(/^HTTP\/1\.1 200 /);
    expect(perLine.out).toContain('abcdefghi');
    expect(seen).toEqual(['POST /echo', 'POST /echo']);
  });

  it('bounds chunk-size lines and trailers: long sizes and 20 KiB of short trailer lines get 400', async () => {
    seen.length = 0;
    const countBefore = await counted();
    const size = await raw(port, chunkedPost(`${'0'.repeat(16)}5\r\nhello\r\n0\r\n\r\n`));
    expect(size.out).toMatch(/^HTTP\/1\.1 400 /);
    // Every byte of the trailer section counts, line starts and line ends included.
    const trailers = await raw(port, chunkedPost(`5\r\nhello\r\n0\r\n${'t: v\r\n'.repeat(Math.ceil((20 * 1024) / 6))}\r\n`));
    expect(trailers.out).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen).toEqual([]);
    expect(await counted()).toBe(countBefore + 2);
    // Trailers under the cap still pass.
    const fine = await raw(port, chunkedPost(`5\r\nhello\r\n0\r\n${'t: v\r\n'.repeat(100)}\r\n`));
    expect(fine.out).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('does not disturb a request in flight on another connection', async () => {
    seen.length = 0;
    const other = connect(port, '127.0.0.1');
    let out = '';
    other.on('data', (c: Buffer) => (out += c.toString('latin1')));
    const closed = new Promise<void>((resolve) => other.once('close', () => resolve()));
    other.write(chunkedPost('6\r\nbefore\r\n', '/slow'));
    await new Promise<void>((resolve) => other.write('', () => resolve()));
    const bad = await raw(port, chunkedPost(`5${extensions(CAP + 100)}\r\nhello\r\n0\r\n\r\n`));
    expect(bad.out).toMatch(/^HTTP\/1\.1 400 /);
    other.write('5\r\nafter\r\n0\r\n\r\n'); // not end(): a half-close aborts an unfinished request
    await closed;
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out).toContain('beforeafter');
    expect(seen).toEqual(['POST /slow']);
  });

  it('answers 502 when an endpoint sends oversize chunk extensions, and keeps serving', async () => {
    const r = await raw(badPort, 'GET /x HTTP/1.1\r\nHost: bad\r\nConnection: close\r\n\r\n');
    expect(r.out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(r.out).toContain('x-weft-reason: BAD_RESPONSE');
    expect(r.out).toContain('chunk extensions too large');
    expect(r.out).not.toContain('hello');
    const ok = await raw(port, 'GET /after HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    expect(ok.out).toMatch(/^HTTP\/1\.1 200 /);
  });
});
