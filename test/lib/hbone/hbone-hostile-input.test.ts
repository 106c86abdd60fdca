// Pins that nothing a client sends to the HBONE port can crash the server or stall it: random bytes,
// plain HTTP/1.1, TLS without ALPN h2, and mutual-TLS HTTP/2 requests other than CONNECT (answered 405);
// a good tunnel works afterwards.
import { randomBytes } from 'node:crypto';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { REASON_HEADER } from '../../../lib/hbone/index.js';
import { hboneSuite, newPool, readAll, request, } from './hbone-fixture.js';

function sendRaw(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(payload));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('hbone hostile input', () => {
  const srv = hboneSuite();

  it('survives garbage, plain HTTP and TLS without h2', async () => {
    for (let i = 0; i < 20; i++) await sendRaw(srv.port, randomBytes(1 + Math.floor(Math.random() * 4096)));
    await sendRaw(srv.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await sendRaw(srv.port, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    await new Promise<void>((resolve) => {
      const t = tlsConnect({ host: '127.0.0.1', port: srv.port, ca: srv.pki.ca.rootsPem, cert: srv.pki.client.certChainPem.join('\n'), key: srv.pki.client.keyPem, ALPNProtocols: ['http/1.1'], servername: '', checkServerIdentity: () => undefined });
      t.on('error', () => resolve());
      t.on('close', () => resolve());
      t.on('secureConnect', () => t.write('GET / HTTP/1.1\r\n\r\n'));
    });
    const pool = newPool();
    try {
      const t = await pool.connect(request(srv.pki, srv.port, srv.echo.port));
      t.end('alive');
      expect((await readAll(t)).toString()).toBe('alive');
    } finally {
      pool.close({ force: true });
    }
  });

  it('answers 405 to HTTP/2 requests other than CONNECT', async () => {
    const session = h2connect(`https://127.0.0.1:${srv.port}`, {
      createConnection: () =>
        tlsConnect({ host: '127.0.0.1', port: srv.port, ca: srv.pki.ca.rootsPem, cert: srv.pki.client.certChainPem.join('\n'), key: srv.pki.client.keyPem, ALPNProtocols: ['h2'], servername: '', checkServerIdentity: () => undefined }),
    });
    try {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const req = session.request({ ':method': method, ':path': '/', ':authority': `127.0.0.1:${srv.echo.port}` }, { endStream: method === 'GET' });
        if (method !== 'GET') req.end('body');
        const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
          req.once('response', resolve);
          req.once('error', reject);
        });
        expect(headers[':status']).toBe(405);
        expect(headers[REASON_HEADER]).toContain('only CONNECT');
        req.resume();
      }
    } finally {
      session.destroy();
    }
    expect(srv.hbone.stats().tunnels).toBe(0);
  });
});
