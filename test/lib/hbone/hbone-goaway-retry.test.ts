// Pins the client's side of a draining HBONE server (a node agent stopping for an upgrade, while its
// successor listens on the same port): a CONNECT the server had not processed when it sent GOAWAY
// (RFC 9113 §6.8: such streams were not acted on and may be retried) is opened again on a new session
// instead of failing the connection, and the one the server did take goes on through the draining session.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { eventually } from '../../support/eventually.js';
import { mintPki, newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

describe('hbone client across a server GOAWAY', () => {
  let pki: Pki;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const servers: HboneServer[] = [];

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
  });
  afterAll(async () => {
    for (const s of servers) await s.close({ graceMs: 100 });
    echo.server.close();
  });

  it('opens again on a new session a CONNECT refused because the server went away meanwhile', async () => {
    // Whether the second CONNECT crosses the GOAWAY depends on how the frames are read: a few rounds,
    // each of which failed before (REFUSED_STREAM reached the caller), and at least one crossing seen.
    let crossed = 0;
    for (let round = 0; round < 8; round++) {
      // The draining server: while it handles the first CONNECT it starts to close (GOAWAY); a CONNECT
      // sent on the same session right behind the first may be past the GOAWAY's last stream.
      const ref: { old?: HboneServer } = {};
      let authorized = 0;
      const drained = await startHbone(pki, {
        authorize: () => {
          if (authorized++ === 0) void ref.old!.close({ graceMs: 10_000 });
          return { allow: true };
        },
      });
      ref.old = drained.hbone;
      const successor = await startHbone(pki);
      servers.push(drained.hbone, successor.hbone);
      // The node's port: the first session reaches the old server, later ones its successor.
      let sessions = 0;
      const pool = newPool({ socketFactory: { connect: () => connect({ host: '127.0.0.1', port: sessions++ === 0 ? drained.port : successor.port }) } });
      try {
        const tunnels = await Promise.all([1, 2, 3].map(() => pool.connect(request(pki, drained.port, echo.port))));
        tunnels.forEach((t, i) => t.end(`tunnel ${i}`));
        expect((await Promise.all(tunnels.map((t) => readAll(t)))).map((b) => b.toString())).toEqual(['tunnel 0', 'tunnel 1', 'tunnel 2']);
        if (sessions > 1) crossed++;
      } finally {
        pool.close({ force: true });
      }
    }
    expect(crossed).toBeGreaterThan(0);
  });

  it('keeps a tunnel open through a session going away, without keep-alive PINGs ending it', async () => {
    const { hbone, port } = await startHbone(pki);
    servers.push(hbone);
    // Keep-alive every 50 ms, dead after 200 ms without an answer: a closing session's PINGs must not count.
    const pool = newPool({ pingIntervalMs: 50, pingTimeoutMs: 200 });
    try {
      const tunnel = await pool.connect(request(pki, port, echo.port));
      let got = '';
      tunnel.on('data', (d: Buffer) => (got += d.toString()));
      let failed: Error | undefined;
      tunnel.on('error', (err: Error) => (failed = err));
      void hbone.close({ graceMs: 30_000 });
      // Well past several keep-alive timeouts, the tunnel still carries bytes both ways. The elapsed time is
      // the behaviour under test (the pool's keep-alive runs on real timers over a real TLS session, which
      // fake timers would stall), so this waits 100 ms per message instead of for a condition.
      for (let i = 0; i < 10; i++) {
        tunnel.write(`m${i};`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await eventually(() => got.includes('m9;') || failed !== undefined, 10_000, 'the last message echoed');
      expect(failed).toBeUndefined();
      expect(got).toBe('m0;m1;m2;m3;m4;m5;m6;m7;m8;m9;');
      tunnel.end();
    } finally {
      pool.close({ force: true });
    }
  });
});
