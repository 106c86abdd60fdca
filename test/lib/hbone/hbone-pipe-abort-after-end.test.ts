// Pins that pipeTunnel closes a side it aborts right after having ended it: when both directions ended
// and B is reset while A's shutdown is still pending, A must still emit 'close' and the tunnel resolve. It used
// resetAndDestroy, which libuv refuses on a shut-down socket (EINVAL); Node then emits 'error' and never
// 'close', so the node agent never wrote the connection's access-log line nor freed its table entry.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pipeTunnel } from '../../../lib/hbone/index.js';
import { socketPair } from './hbone-fixture.js';

describe('pipeTunnel: abort after end', () => {
  it('a side whose shutdown is still pending is closed (not left open) when the other side resets', async () => {
    const [outerA, a] = await socketPair();
    const [b, outerB] = await socketPair();
    outerA.on('error', () => undefined);
    a.on('error', () => undefined);
    b.on('error', () => undefined);
    const done = pipeTunnel(a, b);
    const aClosed = once(a, 'close');
    // Client side finishes sending first (A's readable ends, the pipe ends B's write side).
    const aEnded = once(a, 'end');
    outerA.end();
    await aEnded;
    // Then the far side ends and, in the same tick, is reset (an HTTP/2 stream: END_STREAM, then RST):
    // the pipe has just called a.end(), so A's shutdown is pending when it must abort A.
    let pending = false;
    b.once('end', () => {
      pending = a.writableEnded && !a.writableFinished;
      b.destroy(new Error('reset by peer'));
    });
    outerB.end();
    await aClosed;
    await done;
    expect(pending).toBe(true);
    expect(a.destroyed).toBe(true);
    outerA.destroy();
  }, 5_000);
});
