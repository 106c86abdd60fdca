// Pins the tap's server-side filter: namespace and workload match either end (both together: the same
// end), path is a prefix and method any case, both only for requests (a connection has neither), kind
// picks requests or connections; a listener gets only what its filter matches, and a bad filter is refused.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { TapHub, matchesTap, parseTapFilter } from '../../../lib/tap/index.js';
import { MemorySink, connectionEvent, requestEvent } from './tap-events.js';

describe('tap filter', () => {
  it('matches namespace and workload on either end, path as a prefix, method in any case', () => {
    expect(matchesTap({ namespace: 'demo' }, requestEvent())).toBe(true);
    expect(matchesTap({ namespace: 'other' }, requestEvent())).toBe(false);
    expect(matchesTap({ namespace: 'other' }, requestEvent({ dstNs: 'other' }))).toBe(true);
    expect(matchesTap({ workload: 'web' }, requestEvent())).toBe(true);
    expect(matchesTap({ workload: 'client' }, requestEvent())).toBe(true);
    expect(matchesTap({ workload: 'db' }, requestEvent())).toBe(false);
    // Both given: the same end must have both (client is in demo, web in other).
    expect(matchesTap({ namespace: 'other', workload: 'client' }, requestEvent({ dstNs: 'other' }))).toBe(false);
    expect(matchesTap({ namespace: 'other', workload: 'web' }, requestEvent({ dstNs: 'other' }))).toBe(true);
    expect(matchesTap({ path: '/api' }, requestEvent({ path: '/api/v1' }))).toBe(true);
    expect(matchesTap({ path: '/api' }, requestEvent({ path: '/' }))).toBe(false);
    expect(matchesTap(parseTapFilter(new URLSearchParams('method=post'), '/debug/tap'), requestEvent({ method: 'POST' }))).toBe(true);
    expect(matchesTap({ method: 'POST' }, requestEvent({ method: 'GET' }))).toBe(false);
  });

  it('leaves connections out of path and method filters; kind picks one type', () => {
    expect(matchesTap({ namespace: 'demo' }, connectionEvent())).toBe(true);
    expect(matchesTap({ path: '/' }, connectionEvent())).toBe(false);
    expect(matchesTap({ method: 'GET' }, connectionEvent())).toBe(false);
    expect(matchesTap({ kind: 'request' }, connectionEvent())).toBe(false);
    expect(matchesTap({ kind: 'connection' }, connectionEvent())).toBe(true);
    expect(matchesTap({ kind: 'connection' }, requestEvent())).toBe(false);
  });

  it('sends each listener what its filter matches, serialised once', () => {
    const hub = new TapHub({ registry: new Registry() });
    const all = new MemorySink();
    const api = new MemorySink();
    hub.attach({}, all);
    hub.attach(parseTapFilter(new URLSearchParams('path=/api&namespace=demo'), '/debug/tap'), api);
    hub.publish(requestEvent({ path: '/api/x' }));
    hub.publish(requestEvent({ path: '/other' }));
    hub.publish(connectionEvent());
    expect(all.events().map((e) => e.type)).toEqual(['request', 'request', 'connection']);
    expect(api.events().map((e) => e.path)).toEqual(['/api/x']);
    // The same line object went to both: one JSON.stringify per event.
    expect(api.lines[0]).toBe(all.lines[0]);
  });

  it('refuses a filter it cannot apply', () => {
    expect(() => parseTapFilter(new URLSearchParams('kind=pods'), '/debug/tap')).toThrow(/ERR_WEFT_ADMIN_QUERY_INVALID|kind pods/);
    expect(() => parseTapFilter(new URLSearchParams('path=api'), '/debug/tap')).toThrow(/does not start with \//);
  });
});
