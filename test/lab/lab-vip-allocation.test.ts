// Pins Service VIP allocation: addresses inside 10.96.0.0/16 only, never .0.0/.0.1/.255.255, stable for
// a name, unique under collisions, and a typed error when the range is full.
import { describe, expect, it } from 'vitest';
import { allocateVip, isVip, vipFromOffset } from '../../lab/vip.js';
import { hasCode } from '../../lib/errors/index.js';

describe('VIP allocation', () => {
  it('is deterministic per namespace/name and inside the range', () => {
    const a = allocateVip('Service/demo/backend', new Set());
    expect(allocateVip('Service/demo/backend', new Set())).toBe(a);
    expect(isVip(a)).toBe(true);
    expect(a.startsWith('10.96.')).toBe(true);
  });

  it('probes past taken addresses and never repeats one', () => {
    const used = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const ip = allocateVip(`Service/ns/s${i % 7}`, used);
      expect(used.has(ip)).toBe(false);
      used.add(ip);
    }
    expect(used.size).toBe(2000);
  });

  it('refuses network, reserved and broadcast addresses as VIPs', () => {
    expect(isVip('10.96.0.0')).toBe(false);
    expect(isVip('10.96.0.1')).toBe(false);
    expect(isVip('10.96.255.255')).toBe(false);
    expect(isVip('10.97.0.5')).toBe(false);
    expect(isVip('10.96.0.2')).toBe(true);
    expect(vipFromOffset(258)).toBe('10.96.1.2');
  });

  it('throws ERR_WEFT_LAB_VIP_EXHAUSTED when every address is taken', () => {
    const used = new Set<string>();
    for (let o = 2; o <= 65534; o++) used.add(vipFromOffset(o));
    let err: unknown;
    try {
      allocateVip('Service/x/y', used);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'ERR_WEFT_LAB_VIP_EXHAUSTED')).toBe(true);
  });
});
