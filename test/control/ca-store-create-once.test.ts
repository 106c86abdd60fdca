// Pins: CA material is created exactly once and shared — three replicas starting together against the same
// API server (Secret weft-ca) or the same --ca-dir all end up with the one stored CA; a restart loads it
// instead of generating a new one; a user-provided CA is stored and used; broken material is a clear error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeApiServerDouble, kubeconfigFor } from '../support/kube-apiserver.js';
import { KubeApi } from '../../control/sources/kube-api.js';
import { DirectoryCaBackend, SecretCaBackend, loadOrCreateCa } from '../../control/ca-store.js';
import { mintCa } from '../support/pki.js';

describe('CA store', () => {
  describe('Kubernetes Secret', () => {
    let api: KubeApiServerDouble;
    beforeEach(async () => {
      api = await KubeApiServerDouble.start();
    });
    afterEach(async () => {
      await api.close();
    });

    it('creates weft-ca once when three replicas start together', async () => {
      const replicas = [0, 1, 2].map(() => new SecretCaBackend(new KubeApi(kubeconfigFor(api)), 'weft-system'));
      const loaded = await Promise.all(replicas.map((backend) => loadOrCreateCa({ backend, trustDomain: 'cluster.local' })));
      expect(loaded.filter((l) => l.created)).toHaveLength(1);
      expect(new Set(loaded.map((l) => l.ca.certPem)).size).toBe(1);
      expect(api.objects('secrets').map((s) => s.metadata.name)).toEqual(['weft-ca']);
      const creates = api.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/weft-system/secrets');
      expect(creates).toHaveLength(3); // three attempts, one winner (the others got 409 and read back)
      // A restart loads the stored CA.
      const again = await loadOrCreateCa({ backend: replicas[0], trustDomain: 'cluster.local' });
      expect(again.created).toBe(false);
      expect(again.ca.certPem).toBe(loaded[0]?.ca.certPem);
      expect(again.rootsPem).toEqual([again.ca.certPem]);
    });

    it('stores a provided CA, and reports broken material', async () => {
      const root = await mintCa('cluster.local');
      const backend = new SecretCaBackend(new KubeApi(kubeconfigFor(api)), 'weft-system');
      const loaded = await loadOrCreateCa({ backend, trustDomain: 'cluster.local', provided: { certChainPem: root.certPem, keyPem: root.keyPem } });
      expect(loaded.ca.certPem).toBe(root.certPem);

      api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-ca', namespace: 'other' }, data: { 'ca.crt': Buffer.from('junk').toString('base64'), 'ca.key': 'eA==' } });
      const broken = new SecretCaBackend(new KubeApi(kubeconfigFor(api)), 'other');
      await expect(loadOrCreateCa({ backend: broken, trustDomain: 'cluster.local' })).rejects.toMatchObject({ code: 'ERR_WEFT_CA_STORE_INVALID' });
    });
  });

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
