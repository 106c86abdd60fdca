// Pins: install-cni names the other writer of the CNI config only when it recognises its plugin (Cilium's
// cilium-cni, with the setting to change), and names nobody for other or unreadable configs.
import { describe, expect, it } from 'vitest';
import { otherWriterOf } from '../../cni/install/other-writer.js';
import { FIXTURES } from './fixtures.js';

describe('otherWriterOf', () => {
  it('names Cilium, with cni.exclusive=false, from its conflist', () => {
    expect(otherWriterOf(FIXTURES.find((f) => f.name === '05-cilium.conflist')!.text)).toEqual({ name: 'Cilium', setting: 'cni.exclusive=false (Cilium Helm value)' });
  });
  it('names nobody for other plugins or text that is not JSON', () => {
    for (const f of FIXTURES.filter((x) => !x.name.includes('cilium'))) expect(otherWriterOf(f.text), f.name).toBeUndefined();
    expect(otherWriterOf('{not json')).toBeUndefined();
    expect(otherWriterOf('')).toBeUndefined();
  });
});
