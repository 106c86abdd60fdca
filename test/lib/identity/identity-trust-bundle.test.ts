// Pins chain verification and root rotation: a bundle with the old and new roots accepts leaves from
// both; one without the old root refuses old leaves; expired and not-yet-valid leaves are refused.
import { describe, expect, it } from 'vitest';
import { TrustBundle } from '../../../lib/identity/index.js';
import { hasCode } from '../../../lib/errors/index.js';
import { mintCa, mintWorkloadCert } from '../../support/pki.js';

async function refused(p: Promise<unknown>, text: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(hasCode(caught, 'ERR_WEFT_CERT_CHAIN_INVALID'), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(text);
}

describe('TrustBundle', () => {
  it('accepts leaves of every root during a rotation and refuses them once their root is gone', async () => {
    const oldCa = await mintCa();
    const newCa = await mintCa();
    const oldLeaf = await mintWorkloadCert(oldCa, 'demo', 'a');
    const newLeaf = await mintWorkloadCert(newCa, 'demo', 'b');
    const both = new TrustBundle(oldCa.rootsPem).merge(new TrustBundle(newCa.rootsPem));
    expect(both.rootsPem).toHaveLength(2);
    await both.verifyChain(oldLeaf.certChainPem);
    await both.verifyChain(newLeaf.certChainPem);
    const onlyNew = new TrustBundle(newCa.rootsPem);
    await onlyNew.verifyChain(newLeaf.certChainPem);
    await refused(onlyNew.verifyChain(oldLeaf.certChainPem), /no root/);
  });

  it('refuses expired and not-yet-valid certificates', async () => {
    const ca = await mintCa();
    const bundle = new TrustBundle(ca.rootsPem);
    const now = Date.now();
    const expired = await mintWorkloadCert(ca, 'demo', 'a', { notBefore: new Date(now - 7200_000), notAfter: new Date(now - 3600_000) });
    const future = await mintWorkloadCert(ca, 'demo', 'a', { notBefore: new Date(now + 3600_000), notAfter: new Date(now + 7200_000) });
    await refused(bundle.verifyChain(expired.certChainPem), /expired/);
    await refused(bundle.verifyChain(future.certChainPem), /not valid before/);
    await refused(bundle.verifyChain([]), /empty/);
    await refused(bundle.verifyChain(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']), /parse/);
  });

  it('refuses an empty bundle', () => {
    let caught: unknown;
    try {
      new TrustBundle([]);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_WEFT_CA_INVALID')).toBe(true);
  });
});
