// Pins the connection bounds' configuration: defaults from node-agent/config.ts, overridden by
// WEFT_AGENT_MAX_CONNECTIONS_PER_POD / _PER_SOURCE, and a value that is not a positive integer refused
// at start with ERR_WEFT_CONFIG_INVALID naming the variable (rather than silently running unbounded).
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../lib/errors/index.js';
import { DEFAULTS, ENV_MAX_CONNECTIONS_PER_POD, ENV_MAX_CONNECTIONS_PER_SOURCE, connectionLimitsFrom } from '../../node-agent/config.js';

describe('node-agent config: connection bounds', () => {
  it('defaults, and the environment overrides them', () => {
    expect(connectionLimitsFrom({})).toEqual({ perPod: DEFAULTS.maxConnectionsPerPod, perSource: DEFAULTS.maxConnectionsPerSource });
    expect(connectionLimitsFrom({ [ENV_MAX_CONNECTIONS_PER_POD]: '100', [ENV_MAX_CONNECTIONS_PER_SOURCE]: ' 7 ' })).toEqual({ perPod: 100, perSource: 7 });
  });

  it.each([['0'], ['-1'], ['1.5'], ['lots'], ['1e3'], ['99999999999']])('refuses %s', (value) => {
    let err: unknown;
    try {
      connectionLimitsFrom({ [ENV_MAX_CONNECTIONS_PER_SOURCE]: value });
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'ERR_WEFT_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(ENV_MAX_CONNECTIONS_PER_SOURCE);
  });
});
