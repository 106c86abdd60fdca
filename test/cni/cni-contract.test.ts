// Pins the plugin's copies of shared facts to their sources: the default socket equals the one in
// lib/enrollment.ts (the plugin cannot import that module without pulling zod into every pod start), and
// every weft-cni error code maps to a CNI code the spec allows (1-11, 50-51 well-known; >= 100 ours).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CNI_SOCKET as CONTRACT_SOCKET } from '../../lib/enrollment.js';
import { codes } from '../../lib/errors/index.js';
import { DEFAULT_CNI_SOCKET } from '../../cni/plugin/config.js';
import { weftEntry } from '../../cni/install/conflist.js';

describe('weft-cni contract copies', () => {
  it('uses the enrollment contract default socket', () => {
    expect(DEFAULT_CNI_SOCKET).toBe(CONTRACT_SOCKET);
    expect(weftEntry().cni_socket).toBe(CONTRACT_SOCKET);
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
