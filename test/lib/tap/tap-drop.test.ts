// Pins the tap's bound on a slow reader: while a listener's socket holds more than the byte bound unsent,
// its events are dropped and counted in weft_tap_dropped_total instead of buffered; once it has room
// again it is first told how many it missed (`{"type":"dropped","count":n}`), and a fast listener beside
// it misses nothing.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { TapHub } from '../../../lib/tap/index.js';
import { MemorySink, requestEvent } from './tap-events.js';

describe('tap drops for slow listeners', () => {
  it('drops and counts past the buffer bound, then reports the gap', async () => {
    const registry = new Registry();
    const hub = new TapHub({ registry, maxBufferedBytes: 1000 });
    const slow = new MemorySink();
    const fast = new MemorySink();
    hub.attach({}, slow);
    hub.attach({}, fast);
    hub.publish(requestEvent({ path: '/1' }));
    slow.writableLength = 5000; // the reader stopped reading
    for (let i = 0; i < 7; i++) hub.publish(requestEvent({ path: `/lost${i}` }));
    expect(slow.lines).toHaveLength(1);
    expect(fast.lines).toHaveLength(8);
    expect(await registry.metrics()).toMatch(/^weft_tap_dropped_total 7$/m);

    slow.writableLength = 0; // drained
    hub.publish(requestEvent({ path: '/2' }));
    expect(slow.events()).toEqual([expect.objectContaining({ path: '/1' }), { type: 'dropped', count: 7 }, expect.objectContaining({ path: '/2' })]);
    hub.publish(requestEvent({ path: '/3' }));
    expect(slow.events().at(-1)).toMatchObject({ path: '/3' });
    expect(await registry.metrics()).toMatch(/^weft_tap_dropped_total 7$/m);
  });
});
