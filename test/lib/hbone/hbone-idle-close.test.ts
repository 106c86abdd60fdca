// Pins idle session closing with fake timers: a session without streams stays open for just under the idle
// timeout (5 min by default) and closes after it; keep-alive PINGs do not count as use; a later tunnel
// opens a new session.
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hboneSuite, newPool, readAll, request, } from './hbone-fixture.js';

/** Lets real I/O run (fake timers only replace setTimeout/setInterval; setImmediate stays real). */
async function until(cond: () => boolean, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
}

describe('hbone idle session close', () => {
  const srv = hboneSuite();
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes a session 5 minutes after its last stream, not before', async () => {
    const pool = newPool();
    try {
      const tunnel = await pool.connect(request(srv.pki, srv.port, srv.echo.port));
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
      tunnel.end('x');
      await readAll(tunnel);
      if (!tunnel.closed) await once(tunnel, 'close');
      expect(pool.stats()).toEqual({ sessions: 1, streams: 0 });

      // Advance in PING-sized steps so keep-alive PINGs go out and their answers (real I/O) come back.
      for (let t = 0; t < 290_000; t += 10_000) {
        vi.advanceTimersByTime(10_000);
        await new Promise((r) => setImmediate(r));
      }
      vi.advanceTimersByTime(9_000); // 299 s
      await until(() => true);
      expect(pool.stats().sessions).toBe(1);
      expect(srv.hbone.stats().sessions).toBe(1);

      vi.advanceTimersByTime(2_000); // 301 s
      await until(() => pool.stats().sessions === 0 && srv.hbone.stats().sessions === 0);

      vi.useRealTimers();
      const again = await pool.connect(request(srv.pki, srv.port, srv.echo.port));
      expect(pool.stats().sessions).toBe(1);
      again.destroy();
    } finally {
      pool.close({ force: true });
    }
  });

  it('honours a configured idle timeout', async () => {
    const pool = newPool({ idleTimeoutMs: 30_000 });
    try {
      const tunnel = await pool.connect(request(srv.pki, srv.port, srv.echo.port));
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
      tunnel.destroy();
      await until(() => pool.stats().streams === 0);
      vi.advanceTimersByTime(29_000);
      await until(() => true);
      expect(pool.stats().sessions).toBe(1);
      vi.advanceTimersByTime(2_000);
      await until(() => pool.stats().sessions === 0);
    } finally {
      pool.close({ force: true });
    }
  });
});
