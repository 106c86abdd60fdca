// Pins root rotation in lib/hbone (docs/rotation.md): new trust roots apply to new handshakes at once, an
// established session stays while its peer chains to a root still trusted, and once the peer's root is
// removed the session is closed gracefully — a GOAWAY: the tunnel open on it finishes, the next tunnel
// needs a new session. Both ends: the server (setTrustRoots) and the client pool (closeUntrusted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority, WorkloadCertificate } from '../../../lib/identity/index.js';
import { eventually } from '../../support/eventually.js';
import { mintCa, mintWorkloadCert } from '../../support/pki.js';
import { newPool, readAll, request, startEcho, startHbone, type Pki } from './hbone-fixture.js';

/** Writes `text` on an open tunnel and reads the echo (the tunnel stays open). */
async function roundTrip(tunnel: NodeJS.ReadWriteStream, text: string): Promise<string> {
  const got = new Promise<string>((resolve) => tunnel.once('data', (d: Buffer) => resolve(d.toString())));
  tunnel.write(text);
  return got;
}

describe('hbone root rotation', () => {
  let oldCa: CertificateAuthority;
  let newCa: CertificateAuthority;
  let oldPki: Pki;
  let newClient: WorkloadCertificate;
  let echo: Awaited<ReturnType<typeof startEcho>>;

  beforeAll(async () => {
    // Same subject for both roots, as two roots made by weft-control for one trust domain have.
    [oldCa, newCa] = await Promise.all([mintCa(), mintCa()]);
    const [server, client, client2] = await Promise.all([
      mintWorkloadCert(oldCa, 'dst', 'server'),
      mintWorkloadCert(oldCa, 'src', 'client'),
      mintWorkloadCert(newCa, 'src', 'client'),
    ]);
    oldPki = { ca: oldCa, server, client };
    newClient = client2;
    echo = await startEcho();
  });
  afterAll(() => {
    echo.server.close();
  });

  it('server: a session under a removed root gets GOAWAY (its open tunnel finishes); one under a kept root stays', async () => {
    const { hbone, port } = await startHbone(oldPki);
    const both = [...oldCa.rootsPem, ...newCa.rootsPem];
    const oldPool = newPool();
    const newPool_ = newPool();
    try {
      const oldTunnel = await oldPool.connect(request(oldPki, port, echo.port, { trustRoots: both }));
      expect(await roundTrip(oldTunnel, 'a')).toBe('a');

      // Step 1: both roots. A client under the new root is accepted at once; the old session stays.
      hbone.setTrustRoots(both);
      const newTunnel = await newPool_.connect(request(oldPki, port, echo.port, { certificate: newClient, trustRoots: both }));
      expect(await roundTrip(newTunnel, 'b')).toBe('b');
      expect(hbone.stats().sessions).toBe(2);
      expect(await roundTrip(oldTunnel, 'c')).toBe('c');

      // Step 3: the old root goes. The old client's session is told to go away, gracefully.
      hbone.setTrustRoots(newCa.rootsPem);
      expect(await roundTrip(oldTunnel, 'd')).toBe('d'); // the open tunnel still works
      oldTunnel.end();
      await readAll(oldTunnel);
      await eventually(() => hbone.stats().sessions === 1, 10_000, 'the old session closed');
      // The new client's session was kept and carries new tunnels.
      expect(await roundTrip(newTunnel, 'e')).toBe('e');
      const again = await newPool_.connect(request(oldPki, port, echo.port, { certificate: newClient, trustRoots: both }));
      expect(newPool_.stats().sessions).toBe(1);
      again.end();
      await readAll(again);
      newTunnel.end();
      await readAll(newTunnel);
      // A new session under the removed root is refused.
      await expect(oldPool.connect(request(oldPki, port, echo.port, { trustRoots: both }))).rejects.toMatchObject({ code: 'ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER' });
    } finally {
      oldPool.close({ force: true });
      newPool_.close({ force: true });
      await hbone.close({ graceMs: 100 });
    }
  });

  it('client pool: closeUntrusted retires sessions whose server is under a removed root, and only those', async () => {
    const { hbone, port } = await startHbone({ ...oldPki, server: oldPki.server }, { trustRoots: [...oldCa.rootsPem, ...newCa.rootsPem] });
    const pool = newPool();
    try {
      const both = [...oldCa.rootsPem, ...newCa.rootsPem];
      const tunnel = await pool.connect(request(oldPki, port, echo.port, { trustRoots: both }));
      expect(await roundTrip(tunnel, 'a')).toBe('a');
      expect(await pool.closeUntrusted(both)).toBe(0);
      expect(await pool.closeUntrusted(oldCa.rootsPem)).toBe(0);
      expect(pool.stats().sessions).toBe(1);

      expect(await pool.closeUntrusted(newCa.rootsPem)).toBe(1);
      // GOAWAY from our side: the open tunnel finishes; the session then closes.
      expect(await roundTrip(tunnel, 'b')).toBe('b');
      tunnel.end();
      await readAll(tunnel);
      await eventually(() => pool.stats().sessions === 0, 10_000, 'the session closed after its last tunnel');
      // The next tunnel opens a new session (verified against the roots it is given).
      const next = await pool.connect(request(oldPki, port, echo.port, { trustRoots: both }));
      expect(pool.stats().sessions).toBe(1);
      next.end();
      await readAll(next);
    } finally {
      pool.close({ force: true });
      await hbone.close({ graceMs: 100 });
    }
  });
});
