// Pins the control plane's cluster-mode identity state on a real API server: the TokenReview verifier
// maps a real, pod-bound ServiceAccount token (TokenRequest, audience weft) to the caller — namespace,
// ServiceAccount, pod and node — and refuses unknown tokens and tokens for another audience; CA material
// is created exactly once in Secret weft-ca when three replicas start together (one create wins, the
// others get 409 and read it back), a restart loads it, a provided CA is stored, broken material is a
// clear error.
import { describe, expect, it } from 'vitest';
import { TokenReviewVerifier } from '../../../control/identity/tokens.js';
import { KubeApi } from '../../../control/sources/kube-api.js';
import { SecretCaBackend, loadOrCreateCa } from '../../../control/ca-store.js';
import { hasCode } from '../../../lib/errors/index.js';
import { mintCa } from '../../support/pki.js';
import type { KubeServer } from '../../support/kube-server.js';

export function describeIdentity(kube: () => KubeServer): void {
  describe('tokens (cluster mode TokenReview) on a real API server', () => {
    it('maps an authenticated review to the caller and refuses unknown tokens and other audiences', async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
      const agent = await k.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'agent-n2', namespace: 'weft-system' }, spec: { nodeName: 'n2', serviceAccountName: 'weft-node-agent', containers: [{ name: 'c', image: 'x' }] } });
      const good = await k.tokenFor('weft-system', 'weft-node-agent', { audiences: ['weft'], pod: { name: 'agent-n2', uid: agent.metadata.uid } });
      const otherAudience = await k.tokenFor('weft-system', 'weft-node-agent');
      const api = new KubeApi(k.kc);
      const verifier = new TokenReviewVerifier((t, aud) => api.tokenReview(t, aud));
      await expect(verifier.verify(good)).resolves.toMatchObject({ namespace: 'weft-system', serviceAccount: 'weft-node-agent', podName: 'agent-n2', podUid: agent.metadata.uid, nodeName: 'n2' });
      for (const token of ['nope', otherAudience]) {
        const err = await verifier.verify(token).catch((e: unknown) => e);
        expect(hasCode(err, 'ERR_WEFT_CONTROL_TOKEN_INVALID'), String(err)).toBe(true);
      }
    });
  });

  describe('CA store in Secret weft-ca on a real API server', () => {
    it('creates weft-ca once when three replicas start together', async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } });
      const replicas = [0, 1, 2].map(() => new SecretCaBackend(new KubeApi(k.kc), 'weft-system'));
      const loaded = await Promise.all(replicas.map((backend) => loadOrCreateCa({ backend, trustDomain: 'cluster.local' })));
      expect(loaded.filter((l) => l.created)).toHaveLength(1);
      expect(new Set(loaded.map((l) => l.ca.certPem)).size).toBe(1);
      expect((await k.list('Secret', 'weft-system')).map((s) => s.metadata.name)).toEqual(['weft-ca']);
      // Three attempts, one winner (the others got 409 and read back).
      expect(k.requests().filter((r) => r.verb === 'create' && r.path === '/api/v1/namespaces/weft-system/secrets')).toHaveLength(3);
      // A restart loads the stored CA.
      const again = await loadOrCreateCa({ backend: replicas[0], trustDomain: 'cluster.local' });
      expect(again.created).toBe(false);
      expect(again.ca.certPem).toBe(loaded[0]?.ca.certPem);
      expect(again.rootsPem).toEqual([again.ca.certPem]);
    });

    it('stores a provided CA, and reports broken material', async () => {
      const k = kube();
      await k.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } });
      const root = await mintCa('cluster.local');
      const backend = new SecretCaBackend(new KubeApi(k.kc), 'weft-system');
      const loaded = await loadOrCreateCa({ backend, trustDomain: 'cluster.local', provided: { certChainPem: root.certPem, keyPem: root.keyPem } });
      expect(loaded.ca.certPem).toBe(root.certPem);
      expect(Buffer.from((await k.get('Secret', 'weft-system', 'weft-ca'))?.data?.['ca.crt'] ?? '', 'base64').toString()).toBe(root.certPem);

      await k.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-ca', namespace: 'other' }, data: { 'ca.crt': Buffer.from('junk').toString('base64'), 'ca.key': 'eA==' } });
      const broken = new SecretCaBackend(new KubeApi(k.kc), 'other');
      await expect(loadOrCreateCa({ backend: broken, trustDomain: 'cluster.local' })).rejects.toMatchObject({ code: 'ERR_WEFT_CA_STORE_INVALID' });
    });
  });
}
