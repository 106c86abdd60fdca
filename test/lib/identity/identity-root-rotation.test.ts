// Pins how a data plane follows a root rotation through its trust bundle (docs/rotation.md): every change
// of the roots is handed on at once; a switch of the signing root (the bundle's first) renews, within the
// spread, every certificate that does not chain to it — and only those — and
// weft_workload_certificates_not_under_signing_root counts the ones still waiting (0: the old root can go).
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  CertificateManager,
  SpiffeId,
  TrustBundle,
  followTrustBundle,
  notUnderSigningRoot,
  type Certifier,
} from '../../../lib/identity/index.js';
import { StateStore } from '../../../lib/model/index.js';
import { eventually } from '../../support/eventually.js';

const a = SpiffeId.of('cluster.local', 'demo', 'a');
const b = SpiffeId.of('cluster.local', 'demo', 'b');

/** Signs with whichever CA the control plane currently has. */
class SwitchableCertifier implements Certifier {
  calls = 0;
  /** Switches to `to` right after call number `calls` (a replica that switches late). */
  switchAfter: { calls: number; to: CertificateAuthority } | undefined;
  constructor(public ca: CertificateAuthority) {}
  async certify(csr: string, identity: SpiffeId, lifetime: number): Promise<string[]> {
    this.calls++;
    const chain = (await this.ca.sign(csr, { identity, lifetimeSeconds: lifetime })).certChainPem;
    if (this.switchAfter?.calls === this.calls) this.ca = this.switchAfter.to;
    return chain;
  }
}

function bundle(store: StateStore, version: string, roots: readonly string[]): void {
  store.apply([{ kind: 'TrustBundle', version, upserts: [{ trustDomain: 'cluster.local', roots: [...roots] }], removes: [], replace: true, snapshotDone: true }]);
}

async function waiting(registry: Registry): Promise<number> {
  const m = await registry.getSingleMetric('weft_workload_certificates_not_under_signing_root')!.get();
  return m.values[0]?.value ?? NaN;
}

describe('root rotation in the data plane', () => {
  it('hands every roots change on, renews only certificates not under the new signing root, and counts them', async () => {
    const [oldCa, newCa] = await Promise.all([CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })]);
    const oldRoot = oldCa.rootsPem[0];
    const newRoot = newCa.rootsPem[0];
    const certifier = new SwitchableCertifier(oldCa);
    const certs = new CertificateManager({ certifier });
    const registry = new Registry();
    const store = new StateStore();
    bundle(store, '1', [oldRoot]);
    const handed: (readonly string[])[] = [];
    const stop = followTrustBundle({ view: store, certs, registry, renewSpreadMs: 50, onRoots: (r) => void handed.push(r) });
    try {
      const [certA, certB] = await Promise.all([certs.get(a), certs.get(b)]);
      expect(certifier.calls).toBe(2);

      // Step 1: old + new roots, still signing under the old one: handed on, nothing to renew.
      bundle(store, '2', [oldRoot, newRoot]);
      expect(handed).toEqual([[oldRoot, newRoot]]);
      expect(await certs.renewWhere(notUnderSigningRoot([oldRoot, newRoot]), 0)).toBe(0);
      // The same roots again (another kind changed, or a resync) are not handed on twice.
      bundle(store, '3', [oldRoot, newRoot]);
      expect(handed).toHaveLength(1);

      // Step 2: the signer switched (its root now first): both certificates renew under the new root.
      certifier.ca = newCa;
      bundle(store, '4', [newRoot, oldRoot]);
      expect(handed).toHaveLength(2);
      const underNew = new TrustBundle([newRoot]);
      await eventually(async () => {
        const [ca, cb] = [certs.cached(a), certs.cached(b)];
        return ca !== certA && cb !== certB && ca !== undefined && cb !== undefined && (await underNew.trusts(ca.certChainPem)) && (await underNew.trusts(cb.certChainPem));
      }, 15_000, 'both certificates renewed under the new root');
      expect(certifier.calls).toBe(4);
      await eventually(async () => (await waiting(registry)) === 0, 5_000, 'no certificate waiting');

      // Step 3: the old root goes; every certificate is already under the new one: nothing renews.
      bundle(store, '5', [newRoot]);
      expect(handed).toEqual([[oldRoot, newRoot], [newRoot, oldRoot], [newRoot]]);
      expect(await certs.renewWhere(notUnderSigningRoot([newRoot]), 0)).toBe(0);
      expect(await waiting(registry)).toBe(0);
      expect(certifier.calls).toBe(4);
    } finally {
      stop();
      certs.close();
    }
  });

  it('counts a certificate under the old root as waiting until it renews', async () => {
    const [oldCa, newCa] = await Promise.all([CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })]);
    const certifier = new SwitchableCertifier(oldCa);
    const certs = new CertificateManager({ certifier });
    const registry = new Registry();
    const store = new StateStore();
    bundle(store, '1', [oldCa.rootsPem[0]]);
    // A spread so long that the renewal does not happen during the test.
    const stop = followTrustBundle({ view: store, certs, registry, renewSpreadMs: 3_600_000, onRoots: () => undefined });
    try {
      await certs.get(a);
      certifier.ca = newCa;
      bundle(store, '2', [newCa.rootsPem[0], oldCa.rootsPem[0]]);
      await eventually(async () => (await waiting(registry)) === 1, 5_000, 'one certificate waiting');
      expect(certifier.calls).toBe(1);
    } finally {
      stop();
      certs.close();
    }
  });
});

describe('root rotation with a lagging signer', () => {
  it('renews again a certificate that came back under the old root (a replica had not switched yet)', async () => {
    const [oldCa, newCa] = await Promise.all([CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })]);
    const certifier = new SwitchableCertifier(oldCa);
    const certs = new CertificateManager({ certifier });
    const store = new StateStore();
    bundle(store, '1', [oldCa.rootsPem[0], newCa.rootsPem[0]]);
    const stop = followTrustBundle({ view: store, certs, renewSpreadMs: 20, onRoots: () => undefined });
    try {
      await certs.get(a);
      // The bundle names the new signer, but the first renewal is still signed by the old CA.
      certifier.switchAfter = { calls: 2, to: newCa };
      bundle(store, '2', [newCa.rootsPem[0], oldCa.rootsPem[0]]);
      const underNew = new TrustBundle([newCa.rootsPem[0]]);
      await eventually(async () => {
        const c = certs.cached(a);
        return c !== undefined && (await underNew.trusts(c.certChainPem));
      }, 15_000, 'renewed again, under the new root');
      expect(certifier.calls).toBe(3);
    } finally {
      stop();
      certs.close();
    }
  });
});
