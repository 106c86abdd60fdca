// Pins install-cni's behaviour when another writer keeps taking weft-cni out of the primary config (Cilium
// with cni.exclusive=true rewrites its conflist at once): after a few reverts install-cni stops re-chaining
// at once and backs off exponentially, warns with ERR_WEFT_CNI_INSTALL_CONTESTED naming the setting to
// change, marks the node not ready and writes the contest into its status file (the chart's readiness
// probe reads it; `weft check` reports that readiness); once the other writer stops, it re-chains, and
// after a quiet window it is ready again. It used to re-chain on every change: 69 times in 5 s, at info.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContestTracker } from '../../cni/install/contest.js';
import { FIXTURES } from './fixtures.js';
import { installArgs, nodeDirs, startInstall, waitFor, type NodeDirs } from './run-install.js';

const cilium = FIXTURES.find((f) => f.name === '05-cilium.conflist')!.text;
const WRITER_MS = 4_000;
const WINDOW_MS = 1_500;

interface LogLine {
  level: string;
  writer?: string;
  msg: string;
  code?: string;
  status?: string;
  reverts?: number;
}

const lines = (out: string): LogLine[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe('install-cni against a writer that keeps reverting the conflist', () => {
  const made: NodeDirs[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d.root, { recursive: true, force: true });
  });

  it('backs off, warns once contested, reports it, and recovers when the writer stops', async () => {
    const d = nodeDirs('fight');
    made.push(d);
    const conf = join(d.confDir, '05-cilium.conflist');
    const status = join(d.confDir, '.weft-cni-install.status');
    const ready = join(d.root, 'ready');
    writeFileSync(conf, cilium);
    const proc = startInstall(
      installArgs(d, ['--poll-ms', '200', '--ready-file', ready, '--contest-window-ms', String(WINDOW_MS), '--contest-backoff-max-ms', '2000']),
    );
    try {
      await waitFor('the first chaining', () => readFileSync(conf, 'utf8').includes('weft-cni'));
      await waitFor('readiness', () => existsSync(ready));

      // The fake Cilium: whenever weft-cni shows up in its file, it writes its own config back (by rename,
      // as cilium-agent does), polling every 10 ms for WRITER_MS.
      let reverted = 0;
      const stopAt = Date.now() + WRITER_MS;
      for (let i = 0; i < 1_000 && Date.now() < stopAt; i++) {
        if (readFileSync(conf, 'utf8').includes('weft-cni')) {
          writeFileSync(join(d.confDir, '.cilium-tmp'), cilium);
          renameSync(join(d.confDir, '.cilium-tmp'), conf);
          reverted++;
        }
        // The competing writer's own poll period: the behaviour under test, not a synchronisation.
        await new Promise((r) => setTimeout(r, 10));
      }

      // Without backoff this is one re-chain per ~60 ms (debounce + writer poll): ~60 in 4 s.
      expect(reverted, 're-chains install-cni made while the writer fought it').toBeGreaterThanOrEqual(3);
      expect(reverted).toBeLessThanOrEqual(8);
      const warned = lines(proc.output()).filter((l) => l.code === 'ERR_WEFT_CNI_INSTALL_CONTESTED');
      expect(warned.length).toBeGreaterThanOrEqual(1);
      expect(warned.every((l) => l.level === 'warn')).toBe(true);
      expect(warned[0].msg).toContain('cni.exclusive=false');
      const contested = JSON.parse(readFileSync(status, 'utf8')) as { state: string; file: string; reverts: number; hint: string; writer?: string; setting?: string };
      // The other writer is named from its plugin in the file, with its setting: `weft check` shows both.
      expect(contested).toMatchObject({ state: 'contested', file: '05-cilium.conflist', writer: 'Cilium', setting: expect.stringContaining('cni.exclusive=false') as string });
      expect(warned[0]).toMatchObject({ writer: 'Cilium' });
      expect(contested.hint).toContain('cni.exclusive=false');
      expect(existsSync(ready), 'not ready while contested').toBe(false);

      // The writer gave up: weft-cni comes back after the backoff, and after a quiet window all is well.
      await waitFor('the re-chain after the backoff', () => readFileSync(conf, 'utf8').includes('weft-cni'), 10_000);
      await waitFor('the end of the contest', () => (JSON.parse(readFileSync(status, 'utf8')) as { state: string }).state === 'chained', 10_000);
      await waitFor('readiness again', () => existsSync(ready), 5_000);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.done;
    }
    expect(existsSync(status), 'uninstall removes the status file').toBe(false);
  });
});

describe('ContestTracker (the backoff install-cni uses)', () => {
  it('re-chains at once below the threshold, then backs off exponentially up to the cap, and settles after a quiet window', () => {
    const t = new ContestTracker({ threshold: 3, windowMs: 60_000, backoffInitialMs: 1_000, backoffMaxMs: 8_000, random: () => 0 }); // each delay at the low end of its jitter range: half the ceiling
    let now = 0;
    expect(t.revert(now)).toMatchObject({ contested: false, holdMs: 0 });
    expect(t.revert((now += 100))).toMatchObject({ contested: false, holdMs: 0 });
    const holds: number[] = [];
    const third = t.revert((now += 100));
    expect(third).toMatchObject({ contested: true, started: true, reverts: 3 });
    holds.push(third.holdMs);
    for (let i = 0; i < 5; i++) {
      const r = t.revert((now += holds.at(-1)!));
      expect(r.started).toBe(false);
      holds.push(r.holdMs);
    }
    expect(holds).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000]); // ceilings 1, 2, 4, 8 s, capped at 8 s
    expect(t.settled((now += 59_000))).toBe(false); // a revert 59 s ago is still in the window
    expect(t.settled((now += 1_000))).toBe(true);
    expect(t.isContested).toBe(false);
    // After settling, the count starts over: two reverts are an ordinary rewrite again.
    expect(t.revert(now + 1)).toMatchObject({ contested: false, holdMs: 0 });
  });
});
