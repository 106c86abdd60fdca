// Pins that an HBONE server given its own ports (`ownPorts`) refuses a CONNECT that would lead back into
// its own process — any loopback or unspecified address (in every spelling: ::1, 0.0.0.0, IPv4-mapped),
// or one of its ports on its own addresses — with 403 SELF_CALL before the authorize hook runs and
// before any upstream connection: a node agent served such a CONNECT by connecting to its own listener,
// hop after hop, until it ran out of file descriptors. Other targets are served as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeftError, type WeftError } from '../../../lib/errors/index.js';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { mintPki, newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

describe('hbone server: no CONNECT to itself', () => {
  let pki: Pki;
  let hbone: HboneServer;
  let port: number;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let backendConnections = 0;
  let authorized = 0;
  const refused: WeftError[] = [];

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    echo.server.on('connection', () => backendConnections++);
    ({ hbone, port } = await startHbone(pki, {
      ownPorts: [15001, 15006, 15008],
      ownAddresses: () => ['10.1.2.3', 'fd00::3'],
      authorize: () => {
        authorized++;
        return { allow: true };
      },
    }));
    hbone.on('refused', (err: WeftError) => refused.push(err));
  });
  afterAll(async () => {
    await hbone.close({ graceMs: 100 });
    echo.server.close();
  });

  it.each([
    ['127.0.0.1:<echo>'],
    ['127.9.9.9:80'],
    ['[::1]:<echo>'],
    ['0.0.0.0:<echo>'],
    ['[::]:80'],
    ['[::ffff:127.0.0.1]:<echo>'],
    ['10.1.2.3:15001'],
    ['10.1.2.3:15008'],
    ['[fd00:0::3]:15006'],
  ])('refuses CONNECT %s with 403 SELF_CALL, before authorize and upstream', async (template) => {
    const authority = template.replace('<echo>', String(echo.port));
    const before = { backendConnections, authorized, refused: refused.length };
    const pool = newPool();
    try {
      const err = await pool.connect(request(pki, port, echo.port, { authority })).then(
        () => new Error('expected a refusal'),
        (e: unknown) => e,
      );
      expect(isWeftError(err) && err.code).toBe('ERR_WEFT_HBONE_DENIED');
      expect((err as WeftError).params.status).toBe(403);
      expect(String((err as WeftError).params.reason)).toMatch(/loopback or unspecified|own listener/);
    } finally {
      pool.close({ force: true });
    }
    expect(refused.length).toBe(before.refused + 1);
    expect(refused.at(-1)).toMatchObject({ code: 'ERR_WEFT_HBONE_SELF_TARGET', flag: 'SELF_CALL' });
    expect(authorized).toBe(before.authorized);
    expect(backendConnections).toBe(before.backendConnections);
  });

  it('serves its own address on other ports, and other addresses', async () => {
    const pool = newPool();
    try {
      // The fixture's upstream always dials 127.0.0.1:<port>, so these reach the echo backend.
      for (const authority of [`10.1.2.3:${echo.port}`, `10.9.9.9:${echo.port}`]) {
        const stream = await pool.connect(request(pki, port, echo.port, { authority }));
        stream.end('ping');
        expect((await readAll(stream)).toString(), authority).toBe('ping');
      }
    } finally {
      pool.close({ force: true });
    }
  });
});
