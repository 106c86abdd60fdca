// Pins request-smuggling and bad-input handling on the HTTP/1.1 side: 1 000 malformed or ambiguous
// requests (CL+TE, duplicate/invalid Content-Length, odd transfer codings, bad chunking, obs-fold, invalid
// header bytes, oversize headers, missing or duplicate Host, absolute-form targets), each followed by a
// smuggled second request on the same connection, get 400 or a closed connection; the backend receives
// NOTHING; and the waypoint keeps serving well-formed requests afterwards.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { httpBackend, route, service, startLab, type Backend, type Lab } from './harness.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n';

export const MALFORMED: ReadonlyArray<[string, string]> = [
  ['CL + TE', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['TE + CL', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n'],
  ['duplicate CL differing', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello'],
  ['duplicate CL equal', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello'],
  ['CL list', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 5, 5\r\n\r\nhello'],
  ['CL negative', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: -1\r\n\r\n'],
  ['CL plus sign', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: +5\r\n\r\nhello'],
  ['CL hex', 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 0x5\r\n\r\nhello'],
  ['TE chunked, identity', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
  ['TE gzip, chunked', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ['TE xchunked', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  ['TE space before colon', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
  ['TE twice', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n'],
  ['TE obs-fold', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n'],
  ['obs-fold header', 'GET / HTTP/1.1\r\nHost: web\r\nX-A: a\r\n b\r\n\r\n'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['chunk size overflow', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n'],
  ['chunk missing CRLF', 'POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n'],
  ['NUL in header value', 'GET / HTTP/1.1\r\nHost: web\r\nX-A: a\x00b\r\n\r\n'],
  ['space in header name', 'GET / HTTP/1.1\r\nHost: web\r\nX A: b\r\n\r\n'],
  ['bare CR in header', 'GET / HTTP/1.1\r\nHost: web\r\nX-A: a\rb\r\n\r\n'],
  ['LF-only line endings', 'GET / HTTP/1.1\nHost: web\n\n'],
  ['oversize headers', `GET / HTTP/1.1\r\nHost: web\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: web\r\nHost: evil\r\n\r\n'],
  ['absolute-form target', 'GET http://evil.example/ HTTP/1.1\r\nHost: web\r\n\r\n'],
  ['space in target', 'GET /a b HTTP/1.1\r\nHost: web\r\n\r\n'],
  ['bad version', 'GET / HTTP/9.9\r\nHost: web\r\n\r\n'],
  ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n'],
];

function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(payload + SMUGGLED);
  });
}

describe('waypoint malformed HTTP/1.1', () => {
  let lab: Lab;
  let web: Backend;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    web = await httpBackend((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    lab = await startLab();
    const s = service('web', '10.96.0.60', 80, [web]);
    lab.setState({ services: [s.service], workloads: s.workloads, routes: [route({ name: 'r', parents: [{ namespace: 'demo', name: 'web' }], rules: [{ backendRefs: [{ service: { namespace: 'demo', name: 'web' }, port: 80 }] }] })] });
    port = await lab.listen('10.96.0.60:80');
  });
  afterAll(async () => {
    await lab.close();
    await web.close();
  });

  for (const [name, payload] of MALFORMED) {
    it(`${name}: 400 or closed, nothing forwarded`, async () => {
      seen.length = 0;
      const out = await rawExchange(port, payload);
      expect(out === '' || out.startsWith('HTTP/1.1 400 ')).toBe(true);
      // Exactly one response: the smuggled request is never answered either.
      expect(out.match(/HTTP\/1\.1 /g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(seen).toEqual([]);
    });
  }

  it('1 000 malformed requests: none forwarded, and the waypoint keeps serving', async () => {
    seen.length = 0;
    let i = 0;
    const bad: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (i < 1_000) {
          const [name, payload] = MALFORMED[i++ % MALFORMED.length];
          const out = await rawExchange(port, payload);
          if (!(out === '' || out.startsWith('HTTP/1.1 400 '))) bad.push(name);
        }
      }),
    );
    expect(bad).toEqual([]);
    expect(seen).toEqual([]);
    const r = await request(`http://127.0.0.1:${port}/after`);
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('ok');
    expect(seen).toEqual(['GET /after']);
  }, 60_000);
});
