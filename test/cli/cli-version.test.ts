// Pins: `weft version` prints the client's version always, and the control plane's version, images and
// readiness from its pods when a cluster is reachable; an unreachable or empty cluster is said, not fatal.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectVersion, printVersion } from '../../cli/commands/version.js';
import { clientVersion } from '../../lib/package-root.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { capture, kubeClient, seedHealthyInstall } from './cluster-fixture.js';

describe('weft version', () => {
  let api: KubeApiServerDouble;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
  });
  afterEach(() => api.close());

  it('reads the client version from package.json', () => {
    expect(clientVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reports the control plane from its pods', async () => {
    await seedHealthyInstall(api);
    const info = await collectVersion(kubeClient(api), 'weft-system');
    expect(info.kubernetes).toBe('v1.31.0-weft-double');
    expect(info.controlPlane).toEqual({ version: '0.1.0', images: ['ghcr.io/weft-mesh/weft:0.1.0'], ready: '1/1', source: 'pods in weft-system' });
    const c = capture();
    printVersion(c.printer, info, 'table');
    expect(c.out[2]).toBe('control plane: weft 0.1.0 (1/1 ready, ghcr.io/weft-mesh/weft:0.1.0; pods in weft-system)');
  });

  it('says why the control plane version is unknown', async () => {
    const info = await collectVersion(kubeClient(api), 'weft-system');
    expect(info.controlPlane).toBeNull();
    expect(info.note).toContain('no weft-control pods in namespace weft-system');
    const none = await collectVersion(undefined, 'weft-system', 'no cluster to talk to');
    expect(none.client.version).toBe(clientVersion());
    expect(none.note).toBe('no cluster to talk to');
  });
});
