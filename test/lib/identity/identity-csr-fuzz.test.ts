// Pins that hostile input to the CA never crashes it: 1 000 random and mutated CSRs each end in a typed
// ERR_WEFT_CSR_* error (or, for a mutation that happens to stay valid, a signed chain), never anything else.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertificateAuthority, SpiffeId, createCsr, generateKeyPair } from '../../../lib/identity/index.js';
import { isWeftError } from '../../../lib/errors/index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('CSR fuzz', () => {
  it('1 000 random and mutated CSRs give only typed errors', { timeout: 120_000 }, async () => {
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const identity = SpiffeId.of('cluster.local', 'demo', 'frontend');
    const good = await createCsr(identity, await generateKeyPair());
    const der = Buffer.from(good.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const rnd = seeded(20261125);
    const outcomes = new Map<string, number>();
    const wrap = (b: Buffer) => `-----BEGIN CERTIFICATE REQUEST-----\n${b.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    for (let i = 0; i < 1000; i++) {
      let input: string;
      const mode = i % 5;
      if (mode === 0) input = wrap(randomBytes(Math.floor(rnd() * 600)));
      else if (mode === 1) {
        const b = Buffer.from(der);
        for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        input = wrap(b);
      } else if (mode === 2) input = wrap(der.subarray(0, Math.floor(rnd() * der.length)));
      else if (mode === 3) {
        const b = Buffer.from(der);
        const at = Math.floor(rnd() * b.length);
        input = wrap(Buffer.concat([b.subarray(0, at), randomBytes(Math.floor(rnd() * 40)), b.subarray(at)]));
      } else input = randomBytes(Math.floor(rnd() * 2000)).toString(rnd() < 0.5 ? 'latin1' : 'base64');
      try {
        await ca.sign(input, { identity });
        outcomes.set('signed', (outcomes.get('signed') ?? 0) + 1);
      } catch (err) {
        expect(isWeftError(err), `iteration ${i}: untyped ${String(err)}`).toBe(true);
        const code = (err as { code: string }).code;
        expect(code).toMatch(/^ERR_WEFT_CSR_/);
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
      }
    }
    // Several distinct refusals were exercised, and the untouched CSR still signs.
    expect([...outcomes.keys()].filter((k) => k.startsWith('ERR_')).length).toBeGreaterThanOrEqual(3);
    await expect(ca.sign(good, { identity })).resolves.toBeDefined();
  });
});
