// Pins the basic HBONE contract: a CONNECT over mutual TLS reaches the destination, bytes flow both ways,
// the server sees the client's SPIFFE ID, forwarded/traceparent headers and target; and a request/response
// exchange where the client half-closes still gets its full answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelInfo } from '../../../lib/hbone/index.js';
import { mintPki, newPool, readAll, request, startEcho, startHbone, connectLoopback, type Pki } from './hbone-fixture.js';

describe('hbone echo through a tunnel', () => {
  let pki: Pki;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let hb: Awaited<ReturnType<typeof startHbone>>;
  const seen: TunnelInfo[] = [];

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    hb = await startHbone(pki, {
      connectUpstream: (target, info) => {
        seen.push(info);
        return connectLoopback(target);
      },
    });
  });
  afterAll(async () => {
    await hb.hbone.close({ graceMs: 100 });
    echo.server.close();
  });

  it('carries bytes both ways and tells the server who the peer is', async () => {
    const pool = newPool();
    try {
      const tunnel = await pool.connect(request(pki, hb.port, echo.port, { forwardedFor: '10.244.1.7', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }));
      tunnel.end('hello hbone');
      expect((await readAll(tunnel)).toString()).toBe('hello hbone');
      expect(seen).toHaveLength(1);
      expect(seen[0].peer?.toString()).toBe(pki.client.identity.toString());
      expect(seen[0].target).toEqual({ authority: `127.0.0.1:${echo.port}`, host: '127.0.0.1', port: echo.port });
      expect(seen[0].forwardedFor).toBe('10.244.1.7');
      expect(seen[0].traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(pool.stats().sessions).toBe(1);
    } finally {
      pool.close({ force: true });
    }
  });
});
