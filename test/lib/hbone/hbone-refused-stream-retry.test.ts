// Pins the pool's retry of refused streams. A peer that closes a session (GOAWAY: root rotation removed
// the root its client chains to, or it shuts down) refuses the streams that raced its GOAWAY with
// REFUSED_STREAM; such a stream was not processed (RFC 9113 §8.7), so the pool opens it again on another
// session instead of failing the connection. Before: one refused CONNECT failed the client's connection.
// A peer that refuses every stream is given up on after maxConnectAttempts.
import { createSecureServer, constants as h2c, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HbonePool } from '../../../lib/hbone/index.js';
import { mintPki, request, type Pki } from './hbone-fixture.js';

describe('hbone pool: refused streams', () => {
  let pki: Pki;
  let server: Http2SecureServer | undefined;
  const serverSessions = new Set<ServerHttp2Session>();
  let pool: HbonePool | undefined;

  beforeAll(async () => {
    pki = await mintPki();
  });
  afterEach(async () => {
    pool?.close({ force: true });
    for (const s of serverSessions) s.destroy();
    serverSessions.clear();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
  });

  /** A peer speaking HBONE's TLS and HTTP/2 whose answer to each CONNECT `answer` decides. */
  async function peer(answer: (stream: ServerHttp2Stream, n: number) => void): Promise<{ port: number; streams: () => number; sessions: () => number }> {
    let streams = 0;
    let sessions = 0;
    server = createSecureServer({ cert: pki.server.certChainPem.join('\n'), key: pki.server.keyPem, ca: pki.ca.rootsPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] });
    server.on('session', (s: ServerHttp2Session) => {
      sessions++;
      serverSessions.add(s);
      s.on('error', () => undefined);
    });
    server.on('stream', (stream) => {
      stream.on('error', () => undefined); // the refusals themselves
      answer(stream, ++streams);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, streams: () => streams, sessions: () => sessions };
  }

  it('retries a stream refused without GOAWAY on the same session', async () => {
    const p = await peer((stream, n) => (n === 1 ? stream.close(h2c.NGHTTP2_REFUSED_STREAM) : stream.respond({ ':status': 200 })));
    pool = new HbonePool();
    const tunnel = await pool.connect(request(pki, p.port, 1));
    tunnel.destroy();
    expect(p.streams()).toBe(2);
    expect(p.sessions()).toBe(1);
  });

  it('retries a stream refused by a session going away on a new session', async () => {
    const p = await peer((stream, n) => {
      if (n === 1) {
        stream.session!.goaway(h2c.NGHTTP2_NO_ERROR, 0);
        stream.close(h2c.NGHTTP2_REFUSED_STREAM);
      } else stream.respond({ ':status': 200 });
    });
    pool = new HbonePool();
    const tunnel = await pool.connect(request(pki, p.port, 1));
    expect(p.streams()).toBe(2);
    expect(p.sessions()).toBe(2);
    tunnel.destroy();
  });

  it('gives up after maxConnectAttempts when every stream is refused', async () => {
    const p = await peer((stream) => stream.close(h2c.NGHTTP2_REFUSED_STREAM));
    pool = new HbonePool({ maxConnectAttempts: 3 });
    await expect(pool.connect(request(pki, p.port, 1))).rejects.toMatchObject({ code: 'ERR_WEFT_HBONE_STREAM_RESET' });
    expect(p.streams()).toBe(3);
  });
});
