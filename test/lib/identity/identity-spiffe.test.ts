// Pins strict SPIFFE ID parsing: anything that is not spiffe://<td>/ns/<ns>/sa/<sa> with DNS-rule parts is
// refused with ERR_WEFT_SPIFFE_INVALID, and valid IDs round-trip.
import { describe, expect, it } from 'vitest';
import { SpiffeId } from '../../../lib/identity/spiffe.js';
import { hasCode } from '../../../lib/errors/index.js';

describe('SpiffeId', () => {
  it('parses and formats a workload identity', () => {
    const id = SpiffeId.parse('spiffe://cluster.local/ns/demo/sa/frontend');
    expect(id.trustDomain).toBe('cluster.local');
    expect(id.namespace).toBe('demo');
    expect(id.serviceAccount).toBe('frontend');
    expect(id.toString()).toBe('spiffe://cluster.local/ns/demo/sa/frontend');
    expect(id.equals(SpiffeId.of('cluster.local', 'demo', 'frontend'))).toBe(true);
    expect(id.equals('spiffe://cluster.local/ns/demo/sa/frontend')).toBe(true);
    expect(id.equals('spiffe://cluster.local/ns/demo/sa/backend')).toBe(false);
    expect(SpiffeId.parse('spiffe://td/ns/a/sa/sa.with.dots').serviceAccount).toBe('sa.with.dots');
  });

  const bad = [
    'http://cluster.local/ns/a/sa/b',
    'spiffe://cluster.local/ns/a/sa/b/',
    'spiffe://cluster.local//ns/a/sa/b',
    'spiffe://cluster.local/ns/../sa/b',
    'spiffe://cluster.local/ns/./sa/b',
    'spiffe://cluster.local/ns/a/sa/',
    'spiffe://cluster.local/ns//sa/b',
    'spiffe:///ns/a/sa/b',
    'spiffe://Cluster.Local/ns/a/sa/b',
    'spiffe://cluster.local/ns/A/sa/b',
    'spiffe://cluster.local/ns/a/sa/b?x=1',
    'spiffe://cluster.local/ns/a/sa/b#f',
    'spiffe://cluster.local:443/ns/a/sa/b',
    'spiffe://user@cluster.local/ns/a/sa/b',
    'spiffe://cluster.local/ns/a%2f/sa/b',
    'spiffe://cluster.local/ns/a/sa/b c',
    'spiffe://cluster.local/sa/b/ns/a',
    'spiffe://cluster.local/ns/a/sa/b/extra/x',
    'spiffe://cluster.local/ns/-a/sa/b',
    `spiffe://cluster.local/ns/${'a'.repeat(64)}/sa/b`,
    `spiffe://cluster.local/ns/a/sa/${'b'.repeat(2100)}`,
    'spiffe://clu..ster/ns/a/sa/b',
    '',
  ];
  it.each(bad)('refuses %j', (value) => {
    let caught: unknown;
    try {
      SpiffeId.parse(value);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_WEFT_SPIFFE_INVALID')).toBe(true);
    expect(SpiffeId.tryParse(value)).toBeUndefined();
  });
});
