// Pins what an open tunnel keeps from its setup (lib/hbone/client.ts open()): an agent holds thousands
// of idle tunnels, so once the CONNECT is answered the stream keeps no listener that closes over the setup
// (request, timer, promise callbacks), only one error listener shared by all tunnels, which still keeps
// a stream error no reader handles from crashing the process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintPki, newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

describe('hbone open tunnel listeners', () => {
  let pki: Pki;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let hb: Awaited<ReturnType<typeof startHbone>>;

  beforeAll(async () => {
    pki = await mintPki();
    echo = await startEcho();
    hb = await startHbone(pki);
  });
  afterAll(async () => {
    await hb.hbone.close({ graceMs: 100 });
    echo.server.close();
  });

  it('keeps one shared error listener and no setup closure on an open tunnel', async () => {
    const pool = newPool();
    try {
      const [a, b] = await Promise.all([pool.connect(request(pki, hb.port, echo.port)), pool.connect(request(pki, hb.port, echo.port))]);
      expect(a.listenerCount('error')).toBe(1);
      expect(b.listenerCount('error')).toBe(1);
      expect(a.listeners('error')[0]).toBe(b.listeners('error')[0]);
      // The pool's slot release is the one close listener the client adds (Node's own are not ours).
      const ours = (s: typeof a): string[] => s.listeners('close').map((f) => (f as { name: string }).name).filter((n) => n !== 'release');
      expect(ours(a)).toEqual(ours(b));
      expect(ours(a)).not.toContain('onClose');
      expect(ours(a)).not.toContain('');
      // Still a working tunnel.
      a.end('still open');
      expect((await readAll(a)).toString()).toBe('still open');
      b.destroy();
    } finally {
      pool.close({ force: true });
    }
  });
});
