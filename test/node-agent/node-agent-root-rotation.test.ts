// Pins the node agent's side of a root rotation (docs/rotation.md) through its real data plane wiring
// (createDataplane + a pod's InboundHbone, real TLS on loopback; only the pod netns is replaced by the
// host's): the trust bundle's roots reach the pod's HBONE server at once; a switch of the signing root
// renews the pod's certificate under the new root; removing the old root closes the HBONE sessions of
// clients under it gracefully while sessions of clients under the new root stay.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HbonePool, type HboneConnectRequest } from '../../lib/hbone/index.js';
import { CertificateAuthority, SpiffeId, TrustBundle, type Certifier, type WorkloadCertificate } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import type { SocketFactory } from '../../node-agent/netns/socket-factory.js';
import { InboundHbone } from '../../node-agent/proxy/inbound.js';
import type { PodContext } from '../../node-agent/proxy/inputs.js';
import { eventually } from '../support/eventually.js';
import { mintWorkloadCert } from '../support/pki.js';

/** Sockets on the host instead of in a pod netns (this test is about TLS, not capture). */
const hostFactory: SocketFactory = {
  where: 'host',
  listen: (host, port) => new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(port, host, () => resolve(s));
  }),
  connect: (address, port): Socket => connect({ host: address, port }),
};

class SwitchableCertifier implements Certifier {
  constructor(public ca: CertificateAuthority) {}
  async certify(csr: string, identity: SpiffeId, lifetime: number): Promise<string[]> {
    return (await this.ca.sign(csr, { identity, lifetimeSeconds: lifetime })).certChainPem;
  }
}

describe('node agent root rotation', () => {
  let oldCa: CertificateAuthority;
  let newCa: CertificateAuthority;
  const store = new StateStore();
  let dp: Dataplane;
  let certifier: SwitchableCertifier;
  let inbound: InboundHbone;
  let listener: Server;
  let port: number;
  const bId = SpiffeId.of('cluster.local', 'shop', 'sa-b');

  const bundle = (version: string, roots: readonly string[]): void =>
    store.apply([{ kind: 'TrustBundle', version, upserts: [{ trustDomain: 'cluster.local', roots: [...roots] }], removes: [], replace: true, snapshotDone: true }]);
  /** A CONNECT to pod b from a client with `cert`: answered (any status) once the mTLS session is up. */
  const session = async (pool: HbonePool, cert: WorkloadCertificate): Promise<void> => {
    const req: HboneConnectRequest = {
      source: cert.identity,
      destination: bId,
      nextHop: { host: '127.0.0.1', port },
      authority: '127.0.0.2:8080',
      certificate: cert,
      trustRoots: [...oldCa.rootsPem, ...newCa.rootsPem],
    };
    // The target is a loopback address, refused as a self-call: the answer proves the session is up.
    await expect(pool.connect(req)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_WEFT_HBONE_(DENIED|REJECTED)$/) as string });
  };

  beforeAll(async () => {
    [oldCa, newCa] = await Promise.all([CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })]);
    store.apply([{ kind: 'Workload', version: '1', upserts: [WorkloadSchema.parse({ uid: 'uid-b', name: 'b', namespace: 'shop', serviceAccount: 'sa-b', ips: ['127.0.0.2'], captured: true, labels: {} })], removes: [], snapshotDone: true }]);
    bundle('1', oldCa.rootsPem);
    certifier = new SwitchableCertifier(oldCa);
    dp = createDataplane({ view: store, certifier, trustDomain: 'cluster.local', registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: silentLogger, rootSwitchRenewSpreadMs: 50 });
    const pod: PodContext = { uid: 'uid-b', namespace: 'shop', name: 'b', ips: ['127.0.0.2'], factory: hostFactory, workload: () => store.workloadByUid('uid-b') };
    inbound = new InboundHbone(dp.inputs, pod);
    listener = await hostFactory.listen('127.0.0.1', 0);
    port = (listener.address() as { port: number }).port;
    inbound.attach(listener);
  });
  afterAll(() => {
    inbound?.close();
    listener?.close();
    dp?.close();
  });

  it('follows the bundle: new roots at once, the pod certificate renewed after the switch, old-root sessions closed at the end', async () => {
    const aOld = await mintWorkloadCert(oldCa, 'shop', 'sa-a');
    const cNew = await mintWorkloadCert(newCa, 'shop', 'sa-c');
    const oldPool = new HbonePool({ logger: silentLogger });
    const newPool = new HbonePool({ logger: silentLogger });
    try {
      await session(oldPool, aOld);
      expect(oldPool.stats().sessions).toBe(1);
      const first = dp.certs.cached(bId)!;
      expect(await new TrustBundle(oldCa.rootsPem).trusts(first.certChainPem)).toBe(true);

      // Step 1: both roots. A client under the new root is accepted; nothing renews.
      bundle('2', [...oldCa.rootsPem, ...newCa.rootsPem]);
      await session(newPool, cNew);
      expect(newPool.stats().sessions).toBe(1);
      expect(dp.certs.cached(bId)).toBe(first);

      // Step 2: the signer switched. The pod's certificate renews under the new root.
      certifier.ca = newCa;
      bundle('3', [...newCa.rootsPem, ...oldCa.rootsPem]);
      const underNew = new TrustBundle(newCa.rootsPem);
      await eventually(async () => {
        const c = dp.certs.cached(bId);
        return c !== undefined && c !== first && (await underNew.trusts(c.certChainPem));
      }, 15_000, 'the pod certificate renewed under the new root');
      expect(oldPool.stats().sessions).toBe(1);

      // Step 3: the old root goes. The session of the client under it is closed (GOAWAY); the other stays.
      bundle('4', newCa.rootsPem);
      await eventually(() => oldPool.stats().sessions === 0, 10_000, 'the old-root client session closed');
      expect(newPool.stats().sessions).toBe(1);
      // New sessions verify the pod's renewed certificate against the new root only.
      const newOnly = new HbonePool({ logger: silentLogger });
      try {
        const req: HboneConnectRequest = { source: cNew.identity, destination: bId, nextHop: { host: '127.0.0.1', port }, authority: '127.0.0.2:8080', certificate: cNew, trustRoots: newCa.rootsPem };
        await expect(newOnly.connect(req)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_WEFT_HBONE_(DENIED|REJECTED)$/) as string });
      } finally {
        newOnly.close({ force: true });
      }
    } finally {
      oldPool.close({ force: true });
      newPool.close({ force: true });
    }
  });
});
