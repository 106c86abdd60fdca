// Pins the parsers every tunnel goes through: `:authority` accepts only <ip>:<port> (no host names, no
// port 0, bracketed IPv6), `forwarded: for=` yields an IP or nothing, and URI SANs are read from Node's
// subjectaltname string including quoted entries (so a crafted SAN cannot smuggle a second identity).
import { describe, expect, it } from 'vitest';
import { parseAuthority, parseForwardedFor } from '../../../lib/hbone/index.js';
import { uriSans } from '../../../lib/hbone/tls.js';

describe('hbone parsing', () => {
  it(':authority', () => {
    expect(parseAuthority('10.244.1.5:8080')).toEqual({ authority: '10.244.1.5:8080', host: '10.244.1.5', port: 8080 });
    expect(parseAuthority('[fd00::5]:80')).toEqual({ authority: '[fd00::5]:80', host: 'fd00::5', port: 80 });
    for (const bad of ['example.com:80', '10.0.0.1', '10.0.0.1:0', '10.0.0.1:65536', 'fd00::5:80', '[fd00::5]', '[10.0.0.1]:80', '10.0.0.1:80x', ':80', '', '10.0.0.1:+80'])
      expect(parseAuthority(bad), bad).toBeUndefined();
    expect(parseAuthority(undefined)).toBeUndefined();
  });

  it('forwarded: for=', () => {
    expect(parseForwardedFor('for=10.244.1.7')).toBe('10.244.1.7');
    expect(parseForwardedFor('for="[2001:db8::1]"')).toBe('2001:db8::1');
    expect(parseForwardedFor('proto=https;for=10.0.0.9')).toBe('10.0.0.9');
    expect(parseForwardedFor('for=unknown')).toBeUndefined();
    expect(parseForwardedFor(undefined)).toBeUndefined();
  });

  it('URI SANs', () => {
    expect(uriSans('URI:spiffe://td/ns/a/sa/b')).toEqual(['spiffe://td/ns/a/sa/b']);
    expect(uriSans('DNS:x, URI:spiffe://td/ns/a/sa/b, IP Address:1.2.3.4')).toEqual(['spiffe://td/ns/a/sa/b']);
    // Node quotes a value containing ", "; it is one SAN, not two.
    expect(uriSans('URI:"spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/x/sa/y"')).toEqual(['spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/x/sa/y']);
    expect(uriSans(undefined)).toEqual([]);
  });
});
