// Pins the plugin's copies of shared facts to their sources. The C plugin gets them from a header that
// scripts/build-cni.mjs generates from lib/errors and cni/plugin-contract.ts; these check the built
// plugin, not the generator: its default socket is the enrollment contract's, its messages and hints
// are the error table's, its versions are the contract's — and every weft-cni error code maps to a CNI
// code the spec allows (1-11, 50-51 well-known; >= 100 ours).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CNI_SOCKET as CONTRACT_SOCKET } from '../../lib/enrollment.js';
import { codes, WeftError } from '../../lib/errors/index.js';
import { DEFAULT_CNI_SOCKET, SUPPORTED_CNI_VERSIONS } from '../../cni/plugin-contract.js';
import { weftEntry } from '../../cni/install/conflist.js';
import { cniError, podEnv, runPlugin, weftConfig } from './run-plugin.js';

describe('weft-cni contract copies', () => {
  it('uses the enrollment contract default socket', async () => {
    expect(DEFAULT_CNI_SOCKET).toBe(CONTRACT_SOCKET);
    expect(weftEntry().cni_socket).toBe(CONTRACT_SOCKET);
    const config = weftConfig({ agent_timeout_ms: 1 });
    delete config.cni_socket;
    // STATUS makes one attempt: the message names the socket it tried.
    const err = cniError(await runPlugin({ CNI_COMMAND: 'STATUS' }, JSON.stringify(config)));
    expect(err.code).toBe(50);
    expect(err.msg).toContain(`on ${CONTRACT_SOCKET} is not ready`);
  });

  it('prints the error table message and hint, rendered as WeftError renders them', async () => {
    const err = cniError(await runPlugin(podEnv('ADD'), JSON.stringify(weftConfig({ cniVersion: '0.2.0' }))));
    const expected = new WeftError('ERR_WEFT_CNI_VERSION_INCOMPATIBLE', { version: '0.2.0', supported: SUPPORTED_CNI_VERSIONS.join(', ') });
    expect(err).toEqual({ cniVersion: '1.1.0', code: codes.ERR_WEFT_CNI_VERSION_INCOMPATIBLE.cni, msg: expected.message, details: `ERR_WEFT_CNI_VERSION_INCOMPATIBLE: ${expected.hint}` });
    const version = await runPlugin({ CNI_COMMAND: 'VERSION' }, '');
    expect(JSON.parse(version.stdout)).toEqual({ cniVersion: SUPPORTED_CNI_VERSIONS.at(-1), supportedVersions: SUPPORTED_CNI_VERSIONS });
  });

  it('maps every plugin error to a CNI code the spec allows', () => {
    const cni = Object.entries(codes).filter(([code]) => code.startsWith('ERR_WEFT_CNI_') && !code.startsWith('ERR_WEFT_CNI_INSTALL_'));
    expect(cni.length).toBeGreaterThan(5);
    for (const [code, spec] of cni) {
      const n = (spec as { cni?: number }).cni;
      expect(n, code).toBeDefined();
      expect([1, 2, 3, 4, 5, 6, 7, 11, 50, 51].includes(n!) || n! >= 100, `${code} → ${n}`).toBe(true);
    }
  });
});
