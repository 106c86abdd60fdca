// Pins the one host:port parser behind every address flag and tunnel authority: IPv6 only bracketed,
// ports 0..65535, and a clear refusal naming the flag. Before it, four parsers disagreed: the waypoint's
// flags took `abc` as host `ab` with port NaN and `10.0.0.1:99999` as a port, the node agent's took an
// unbracketed `fd00::1:80` as host `fd00::1`, and each failed (or did not) in its own words.
import { describe, expect, it } from 'vitest';
import { parseHostPort, splitHostPort } from '../../lib/host-port.js';
import { isWeftError } from '../../lib/errors/index.js';

describe('host:port', () => {
  it.each([
    ['10.244.1.5:8080', { host: '10.244.1.5', port: 8080 }],
    ['[fd00::5]:80', { host: 'fd00::5', port: 80 }],
    ['[::]:15012', { host: '::', port: 15012 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    [':15012', { host: '', port: 15012 }],
    ['weft-control.weft-system.svc:15012', { host: 'weft-control.weft-system.svc', port: 15012 }],
    ['127.0.0.1:65535', { host: '127.0.0.1', port: 65535 }],
  ])('%s', (value, expected) => {
    expect(splitHostPort(value)).toEqual(expected);
    expect(parseHostPort(value, '--x')).toEqual(expected);
  });

  it.each(['abc', '10.0.0.1', '10.0.0.1:', '10.0.0.1:65536', '10.0.0.1:99999', 'fd00::1:80', '[fd00::1]', '[fd00::1]80', '10.0.0.1:80x', '10.0.0.1:+80', '10.0.0.1: 80', '[a]b]:80', ''])(
    'refuses %j',
    (value) => {
      expect(splitHostPort(value)).toBeUndefined();
      let err: unknown;
      try {
        parseHostPort(value, '--metrics-address');
      } catch (e) {
        err = e;
      }
      expect(isWeftError(err) && err.code).toBe('ERR_WEFT_CONFIG_INVALID');
      expect((err as Error).message).toContain(`--metrics-address must be host:port (IPv6 as [addr]:port), not ${JSON.stringify(value)}`);
    },
  );

  it('takes no non-string', () => {
    expect(splitHostPort(undefined)).toBeUndefined();
  });
});
