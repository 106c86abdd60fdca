// Pins the waypoint's side of a root rotation (docs/rotation.md), through its mesh transport (real HBONE
// server, real TLS on loopback): the trust bundle's roots apply to the next handshake at once, and once
// the old root is removed the sessions of clients under it are closed gracefully while the sessions of
// clients under the new root stay.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HbonePool, type HboneConnectRequest } from '../../lib/hbone/index.js';
import { CertificateAuthority, SpiffeId, type WorkloadCertificate } from '../../lib/identity/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { startMeshTransport } from '../../waypoint/mesh.js';
import { eventually } from '../support/eventually.js';
import { mintWorkloadCert } from '../support/pki.js';
import { startLab, type Lab } from './harness.js';
import { freePort } from '../support/free-port.js';

describe('waypoint root rotation', () => {
  let oldCa: CertificateAuthority;
  let newCa: CertificateAuthority;
  let lab: Lab;
  let stop: () => void;
  let port: number;
  const waypointId = SpiffeId.of('cluster.local', 'demo', 'waypoint');

  const bundle = (version: string, roots: readonly string[]): void =>
    lab.store.apply([{ kind: 'TrustBundle', version, upserts: [{ trustDomain: 'cluster.local', roots: [...roots] }], removes: [], replace: true, snapshotDone: true }]);
  /** Opens an HBONE session to the waypoint; the CONNECT (to a Service it does not know) is answered, not accepted. */
  const session = async (pool: HbonePool, cert: WorkloadCertificate): Promise<void> => {
    const req: HboneConnectRequest = {
      source: cert.identity,
      destination: waypointId,
      nextHop: { host: '127.0.0.1', port },
      authority: '10.96.9.9:80',
      certificate: cert,
      trustRoots: oldCa.rootsPem,
    };
    await expect(pool.connect(req)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_WEFT_HBONE_(DENIED|REJECTED|UNAVAILABLE)$/) as string });
  };

  beforeAll(async () => {
    [oldCa, newCa] = await Promise.all([CertificateAuthority.createRoot({ trustDomain: 'cluster.local' }), CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })]);
    lab = await startLab();
    bundle('1', oldCa.rootsPem);
    const mesh = await startMeshTransport({ mode: 'local', caCertPem: oldCa.certPem, caKeyPem: oldCa.keyPem, trustDomain: 'cluster.local', namespace: 'demo', serviceAccount: 'waypoint', log: silentLogger, registry: new Registry(), view: lab.store });
    port = await freePort();
    stop = await mesh.serveInbound(`127.0.0.1:${port}`, lab.waypoint);
  });
  afterAll(async () => {
    stop?.();
    await lab?.close();
  });

  it('applies new roots at once and closes the sessions of clients under a removed root', async () => {
    const aOld = await mintWorkloadCert(oldCa, 'demo', 'client');
    const cNew = await mintWorkloadCert(newCa, 'demo', 'client');
    const oldPool = new HbonePool({ logger: silentLogger });
    const newPool = new HbonePool({ logger: silentLogger });
    try {
      await session(oldPool, aOld);
      expect(oldPool.stats().sessions).toBe(1);
      // Under the old root only, a client of the new root is refused.
      await expect(newPool.connect({ source: cNew.identity, destination: waypointId, nextHop: { host: '127.0.0.1', port }, authority: '10.96.9.9:80', certificate: cNew, trustRoots: oldCa.rootsPem })).rejects.toMatchObject({ code: 'ERR_WEFT_HBONE_TLS_REJECTED_BY_PEER' });

      // Step 1: both roots, applied to the next handshake.
      bundle('2', [...oldCa.rootsPem, ...newCa.rootsPem]);
      await session(newPool, cNew);
      expect(newPool.stats().sessions).toBe(1);
      expect(oldPool.stats().sessions).toBe(1);

      // Step 3: the old root goes (the waypoint's own certificate stays under the old root here: local CA).
      bundle('3', newCa.rootsPem);
      await eventually(() => oldPool.stats().sessions === 0, 10_000, 'the old-root client session closed');
      expect(newPool.stats().sessions).toBe(1);
    } finally {
      oldPool.close({ force: true });
      newPool.close({ force: true });
    }
  });
});
