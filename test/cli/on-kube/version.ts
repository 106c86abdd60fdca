// Pins `weft version` on a real API server: the client's version always, the server's gitVersion, and
// the control plane's version, images and readiness from its pods; a cluster without weft is said, not
// fatal; no cluster at all is said too.
import { describe, expect, it } from 'vitest';
import { collectVersion, printVersion } from '../../../cli/commands/version.js';
import { KubeClusterClient } from '../../../lib/kube/kube-cluster.js';
import { clientVersion } from '../../../lib/package-root.js';
import type { KubeServer } from '../../support/kube-server.js';
import { MESH_NS, capture, seedHealthyInstall } from '../cluster-fixture.js';

export function describeVersionCommand(kube: () => KubeServer): void {
  describe('weft version on a real API server', () => {
    it('reports the server and the control plane from its pods', async () => {
      const k = kube();
      await seedHealthyInstall(k);
      const info = await collectVersion(new KubeClusterClient(k.kc), MESH_NS);
      const server = (await k.rest.expect<{ gitVersion: string }>('GET', '/version')).body;
      expect(info.kubernetes).toBe(server?.gitVersion);
      expect(info.kubernetes).toMatch(/^v1\.\d+\.\d+/);
      expect(info.controlPlane).toEqual({ version: '0.1.0', images: ['ghcr.io/weft-mesh/weft:0.1.0'], ready: '1/1', source: `pods in ${MESH_NS}` });
      const c = capture();
      printVersion(c.printer, info, 'table');
      expect(c.out[2]).toBe(`control plane: weft 0.1.0 (1/1 ready, ghcr.io/weft-mesh/weft:0.1.0; pods in ${MESH_NS})`);
    });

    it('says why the control plane version is unknown', async () => {
      const info = await collectVersion(new KubeClusterClient(kube().kc), MESH_NS);
      expect(info.client.version).toBe(clientVersion());
      expect(info.controlPlane).toBeNull();
      expect(info.note).toContain(`no weft-control pods in namespace ${MESH_NS}`);
      const none = await collectVersion(undefined, MESH_NS, 'no cluster to talk to');
      expect(none.client.version).toBe(clientVersion());
      expect(none.note).toBe('no cluster to talk to');
    });
  });
}
