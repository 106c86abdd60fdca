// Pins: CA material is created exactly once and shared — three replicas starting together on the same
// --ca-dir all end up with the one stored CA; a restart loads it instead of generating a new one; extra
// roots join the bundle; broken material is a clear error. The same for Secret weft-ca on a real API
// server: on-kube/identity.ts, run by kube-api-server.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectoryCaBackend, loadOrCreateCa } from '../../control/ca-store.js';
import { mintCa } from '../support/pki.js';

describe('CA store', () => {
  describe('directory', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'weft-t-ca-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('creates the files once for concurrent starts and keeps the key private', async () => {
      const caDir = path.join(dir, 'ca');
      const loaded = await Promise.all([0, 1, 2].map(() => loadOrCreateCa({ backend: new DirectoryCaBackend(caDir), trustDomain: 'cluster.local' })));
      expect(loaded.filter((l) => l.created)).toHaveLength(1);
      expect(new Set(loaded.map((l) => l.ca.certPem)).size).toBe(1);
      expect(await readFile(path.join(caDir, 'ca.crt'), 'utf8')).toBe(loaded[0]?.ca.certPem);
      expect((await stat(path.join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
      const again = await loadOrCreateCa({ backend: new DirectoryCaBackend(caDir), trustDomain: 'cluster.local' });
      expect(again.created).toBe(false);
      expect(again.ca.certPem).toBe(loaded[0]?.ca.certPem);
    });

    it('adds extra roots to the trust bundle and rejects half-present material', async () => {
      const caDir = path.join(dir, 'ca');
      const first = await loadOrCreateCa({ backend: new DirectoryCaBackend(caDir), trustDomain: 'cluster.local' });
      const old = await mintCa('cluster.local');
      await writeFile(path.join(caDir, 'roots.pem'), old.certPem);
      const withExtra = await loadOrCreateCa({ backend: new DirectoryCaBackend(caDir), trustDomain: 'cluster.local' });
      expect(withExtra.rootsPem.map((p) => p.trim())).toEqual([first.ca.certPem.trim(), old.certPem.trim()]);
      await rm(path.join(caDir, 'ca.key'));
      await expect(loadOrCreateCa({ backend: new DirectoryCaBackend(caDir), trustDomain: 'cluster.local' })).rejects.toMatchObject({ code: 'ERR_WEFT_CA_STORE_INVALID' });
    });
  });
});
