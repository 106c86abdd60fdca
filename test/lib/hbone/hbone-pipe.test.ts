// Pins pipeTunnel's contract on plain sockets: half-close travels each way with exact byte counts, and an
// abort on one side (RST) resets the other instead of leaving it open or ending it cleanly.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pipeTunnel } from '../../../lib/hbone/index.js';
import { socketPair } from './hbone-fixture.js';

describe('pipeTunnel', () => {
  it('copies both ways, propagates FIN each way and counts bytes', async () => {
    const [outerA, a] = await socketPair();
    const [b, outerB] = await socketPair();
    const done = pipeTunnel(a, b);
    const gotB: Buffer[] = [];
    outerB.on('data', (c: Buffer) => gotB.push(c));
    outerA.end('x'.repeat(100_000));
    await once(outerB, 'end');
    expect(Buffer.concat(gotB).length).toBe(100_000);
    outerB.end('reply');
    const gotA: Buffer[] = [];
    outerA.on('data', (c: Buffer) => gotA.push(c));
    await once(outerA, 'end');
    expect(Buffer.concat(gotA).toString()).toBe('reply');
    expect(await done).toEqual({ aToB: 100_000, bToA: 5 });
  });

  it('a reset on one side resets the other', async () => {
    const [outerA, a] = await socketPair();
    const [b, outerB] = await socketPair();
    const outerBError = new Promise<string | undefined>((resolve) => {
      outerB.on('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      outerB.on('end', () => resolve('clean FIN'));
    });
    const done = pipeTunnel(a, b);
    outerA.write('hello');
    await once(outerB, 'data');
    outerA.resetAndDestroy();
    const result = await done;
    expect(result.aToB).toBe(5);
    expect(b.destroyed).toBe(true);
    expect(await outerBError).toBe('ECONNRESET');
  });
});
