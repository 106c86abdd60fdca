// Pins: a leader whose renew request hangs steps down at the renew deadline even when the deadline timer
// fires a little before Date.now() says the deadline passed (Node's timers run on the loop's cached
// monotonic clock). It used to return without re-arming and lead on until the hung request gave up, after
// another replica could already take the lease: two leaders at once (seen in CI).
import { afterEach, expect, it, vi } from 'vitest';
import { LeaseLeaderElector, type LeaseElectorOptions } from '../../control/leader.js';
import { eventually } from '../support/eventually.js';

let elector: LeaseLeaderElector | undefined;
/** Rejects the hung requests, so that stop() (which awaits the one in flight) can finish. */
const hung: ((err: Error) => void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const reject of hung.splice(0)) reject(new Error('test over'));
  await elector?.stop({ release: false });
});

it('steps down at the renew deadline even when its timer fires early', async () => {
  let calls = 0;
  const hang = <T>(): Promise<T> => new Promise<T>((_, reject) => hung.push(reject));
  // No lease yet → create succeeds; from then on every request hangs (a partitioned leader).
  const api = {
    getLease: () => (calls++ === 0 ? Promise.resolve(undefined) : hang()),
    createLease: () => Promise.resolve({ ok: true }),
    updateLease: () => hang(),
  } as unknown as LeaseElectorOptions['api'];
  elector = new LeaseLeaderElector({ api, namespace: 'weft-system', identity: 'a', leaseDurationMs: 1500, renewDeadlineMs: 300, retryPeriodMs: 100 });
  const e = elector;
  e.start();
  await eventually(() => e.isLeader || undefined, 5_000, 'leadership');
  // From now on the wall clock lags the timers by 5 ms: every timer fires "early" by Date.now().
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() - 5);
  await eventually(() => !e.isLeader || undefined, 3_000, 'step-down at the renew deadline');
  expect(e.isLeader).toBe(false);
});
