// Pins `--watch` of weft stat / weft edges: a new answer every interval until stopped; the first round's
// error ends the command (as without --watch), a later one (Prometheus restarting) is printed with its code
// and the next round asks again; stopping ends the loop. The failure it guards: a live view that dies on
// one failed scrape of Prometheus, or one that hides the first error behind an empty screen.
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../lib/errors/index.js';
import { watchLoop } from '../../cli/traffic/watch-loop.js';
import { eventually } from '../support/eventually.js';

function capture(): { out: string[]; err: string[]; printer: { out(l: string): void; err(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, printer: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

describe('watchLoop', () => {
  it('prints each round, prints a later error and goes on, and ends when stopped', async () => {
    const c = capture();
    const stop = new AbortController();
    let n = 0;
    const loop = watchLoop(
      () => {
        n++;
        if (n === 2) return Promise.reject(new WeftError('ERR_WEFT_CLI_PROMETHEUS_UNREACHABLE', { url: 'http://127.0.0.1:9', reason: 'connect ECONNREFUSED 127.0.0.1:9' }));
        return Promise.resolve([`answer ${n}`]);
      },
      { intervalMs: 5, printer: c.printer, redraw: false, signal: stop.signal },
    );
    await eventually(() => c.out.length >= 3, 10_000, 'three answers');
    stop.abort();
    await loop;
    expect(c.out.slice(0, 3)).toEqual(['answer 1', 'answer 3', 'answer 4']);
    expect(c.err).toEqual([expect.stringContaining('error ERR_WEFT_CLI_PROMETHEUS_UNREACHABLE: cannot reach Prometheus at http://127.0.0.1:9')]);
  });

  it('the first round failing ends the loop with its error', async () => {
    const c = capture();
    const err = new WeftError('ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED', { url: 'http://p', query: 'up', reason: 'HTTP 400' });
    await expect(watchLoop(() => Promise.reject(err), { intervalMs: 5, printer: c.printer, redraw: false })).rejects.toBe(err);
    expect(c.out).toEqual([]);
  });

  it('on a terminal each answer redraws the screen', async () => {
    const c = capture();
    const stop = new AbortController();
    const loop = watchLoop(() => Promise.resolve(['A', 'B']), { intervalMs: 5, printer: c.printer, redraw: true, signal: stop.signal });
    await eventually(() => c.out.length >= 2, 10_000, 'two answers');
    stop.abort();
    await loop;
    expect(c.out[0]).toBe('\x1b[H\x1b[2JA\nB');
  });
});
