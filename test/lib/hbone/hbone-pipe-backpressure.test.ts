// Pins pipeTunnel's memory bound: when the writing side's peer stops reading, the reading side is paused
// once the writer holds PIPE_BUFFER_BYTES, so a tunnel never buffers more than that plus one read, and every
// byte still arrives once the peer reads again. Real sockets on loopback.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PIPE_BUFFER_BYTES, pipeTunnel } from '../../../lib/hbone/index.js';
import { eventually } from '../../support/eventually.js';
import { socketPair } from './hbone-fixture.js';

/** The largest chunk a TCP read hands to JS (libuv reads 64 KiB at a time). */
const READ_BYTES = 64 * 1024;

describe('pipeTunnel backpressure', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
  });

  it('pauses the reader at PIPE_BUFFER_BYTES held by the writer and delivers everything once the peer reads', async () => {
    const [outerA, a] = await socketPair();
    const [b, outerB] = await socketPair();
    cleanup.push(() => [outerA, a, b, outerB].forEach((s) => s.destroy()));
    outerB.pause();
    void pipeTunnel(a, b);
    // More than the kernel's loopback buffers of both connections take, so the writer must hold bytes.
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x64);
    let sent = 0;
    const feed = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!outerA.write(chunk)) return void outerA.once('drain', feed);
      }
      outerA.end();
    };
    feed();
    await eventually(() => a.isPaused() && b.writableLength >= PIPE_BUFFER_BYTES, 30_000, 'reader paused with the writer full');
    expect(b.writableLength).toBeLessThanOrEqual(PIPE_BUFFER_BYTES + READ_BYTES);
    let got = 0;
    outerB.on('data', (c: Buffer) => (got += c.length));
    outerB.resume();
    await once(outerB, 'end');
    expect(got).toBe(total);
  }, 60_000);
});
