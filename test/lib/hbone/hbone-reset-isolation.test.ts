// Pins that misbehaving clients hurt nobody else: a TCP client that resets in the middle of the TLS
// handshake, and a tunnel reset while the server is still authorizing it (before respond()), leave the
// server up and the other tunnels on it carrying data.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { mintPki, newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

const SLOW_PORT = 1999;

describe('hbone reset isolation', () => {
  let pki: Pki;
  let hbone: HboneServer;
  let port: number;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let authorizing: () => void = () => undefined;
  // The slow authorize is held until the test has reset the tunnel, then answers; `authorized` tells when.
  let release: () => void = () => undefined;
  let authorized: () => void = () => undefined;

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    ({ hbone, port } = await startHbone(pki, {
      authorize: async (_peer, target) => {
        if (target.port === SLOW_PORT) {
          const held = new Promise<void>((r) => (release = r));
          authorizing();
          await held;
          setImmediate(authorized); // after the server's continuation (respond or not) has run
        }
        return { allow: true };
      },
    }));
  });
  afterAll(async () => {
    await hbone.close({ graceMs: 100 });
    echo.server.close();
  });

  it('a client resetting mid-handshake and a tunnel reset before respond() do not affect other tunnels', async () => {
    const pool = newPool();
    try {
      const tunnels = await Promise.all([1, 2, 3].map(() => pool.connect(request(pki, port, echo.port))));
      for (const [i, t] of tunnels.entries()) t.write(`before ${i};`);

      // 1. Raw TCP: send the start of a ClientHello, then RST.
      for (let i = 0; i < 5; i++) {
        const raw: Socket = connect({ host: '127.0.0.1', port });
        await new Promise<void>((r) => raw.once('connect', () => r()));
        // Let the bytes leave before the RST (ordering on one socket, not a wait for the server): the server
        // may or may not have read them yet, both are resets "mid-handshake".
        await new Promise<void>((r) => raw.write(Buffer.from('16030100c8010000c40303', 'hex'), () => r()));
        raw.resetAndDestroy();
      }

      // 2. A CONNECT reset by the client while the server is still in authorize().
      const slowPool = newPool();
      const started = new Promise<void>((r) => (authorizing = r));
      const slow = slowPool.connect(request(pki, port, SLOW_PORT)).catch((e: unknown) => e);
      await started;
      slowPool.close({ force: true });
      await slow;
      // The stream is gone; now authorize answers allow: respond() on the reset stream must not throw.
      const answered = new Promise<void>((r) => (authorized = r));
      release();
      await answered;

      const answers = await Promise.all(
        tunnels.map((t, i) => {
          t.end(`after ${i}`);
          return readAll(t).then((b) => b.toString());
        }),
      );
      expect(answers).toEqual(['before 0;after 0', 'before 1;after 1', 'before 2;after 2']);
      const fresh = await pool.connect(request(pki, port, echo.port));
      fresh.end('fresh');
      expect((await readAll(fresh)).toString()).toBe('fresh');
    } finally {
      pool.close({ force: true });
    }
  });
});
