// Pins that policy and reachability refusals reach the client before any byte flows: the authorize hook's
// 401/403/503 and its reason arrive as distinct WeftErrors carrying status and `x-weft-reason`; an
// unreachable destination answers 503 naming the errno; and the backend never sees a connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeftError, type WeftError } from '../../../lib/errors/index.js';
import type { HboneServer } from '../../../lib/hbone/index.js';
import { mintPki, newPool, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

async function refusal(p: Promise<unknown>): Promise<WeftError> {
  const err = await p.then(() => new Error('expected a refusal'), (e: unknown) => e);
  if (!isWeftError(err)) throw err instanceof Error ? err : new Error(String(err));
  return err;
}

describe('hbone refusal reasons', () => {
  let pki: Pki;
  let hbone: HboneServer;
  let port: number;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let backendConnections = 0;
  const verdicts: Record<number, { status: 401 | 403 | 503; reason: string }> = {
    1001: { status: 401, reason: 'no identity accepted here' },
    1002: { status: 403, reason: 'denied by policy ns1/deny-all' },
    1003: { status: 503, reason: 'destination draining' },
  };

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    echo.server.on('connection', () => backendConnections++);
    ({ hbone, port } = await startHbone(pki, {
      authorize: (_peer, target) => {
        const v = verdicts[target.port];
        return v ? { allow: false, ...v } : { allow: true };
      },
    }));
  });
  afterAll(async () => {
    await hbone.close({ graceMs: 100 });
    echo.server.close();
  });

  it.each([
    [1001, 'ERR_WEFT_HBONE_DENIED', 'DENY'],
    [1002, 'ERR_WEFT_HBONE_DENIED', 'DENY'],
    [1003, 'ERR_WEFT_HBONE_UNAVAILABLE', 'CONNECT'],
  ] as const)('port %i → %s with status and reason', async (p, code, flag) => {
    const pool = newPool();
    const connectionsBefore = backendConnections;
    try {
      const err = await refusal(pool.connect(request(pki, port, p)));
      expect(err.code).toBe(code);
      expect(err.flag).toBe(flag);
      expect(err.params.status).toBe(verdicts[p].status);
      expect(err.params.reason).toBe(verdicts[p].reason);
      expect(err.message).toContain(verdicts[p].reason);
      expect(backendConnections).toBe(connectionsBefore);
      // A refused tunnel does not spoil the session for the next one.
      const ok = await pool.connect(request(pki, port, echo.port));
      ok.destroy();
      expect(pool.stats().sessions).toBe(1);
    } finally {
      pool.close({ force: true });
    }
  });

  it('an unreachable destination answers 503 naming the cause', async () => {
    const pool = newPool();
    try {
      // Port 1 on loopback: nothing listens there.
      const err = await refusal(pool.connect(request(pki, port, 1)));
      expect(err.code).toBe('ERR_WEFT_HBONE_UNAVAILABLE');
      expect(err.params.status).toBe(503);
      expect(String(err.params.reason)).toMatch(/ECONNREFUSED/);
    } finally {
      pool.close({ force: true });
    }
  });

  it('a host name in :authority answers 400', async () => {
    const pool = newPool();
    try {
      const err = await refusal(pool.connect(request(pki, port, echo.port, { authority: `example.com:${echo.port}` })));
      expect(err.code).toBe('ERR_WEFT_HBONE_REJECTED');
      expect(err.params.status).toBe(400);
    } finally {
      pool.close({ force: true });
    }
  });
});
