// Pins how the agent schedules CNI ADDs (the pod-creation latency issue): one pod's ADD that waits for
// its Workload to show up in cluster state must not hold up another pod's ADD (before, every ADD queued
// behind the one ahead, and a few slow ones pushed later pods past weft-cni's timeout); a waiting ADD
// wakes as soon as its Workload arrives; and when ADD answers, capture rules and listeners are in place
// and the state file already lists the pod (restart safety), while DEL removes all three.
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnrollmentRequest } from '../../lib/enrollment.js';
import { StateStore } from '../../lib/model/index.js';
import { captureInstalled } from '../../node-agent/enroll/capture.js';
import type { Enrollments } from '../../node-agent/enroll/enrollments.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { podRequest, podWorkload, startEnrollments, type EnrollmentsFixture } from '../support/enrollments.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

/** How long ADD waits for an unknown pod; long enough that a pod queued behind one shows it. */
const WAIT_MS = 4_000;

describeRoot('node-agent enrollment scheduling (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  const store = new StateStore();
  let pods: PodNet[];
  let fixture: EnrollmentsFixture;
  let enrollments: Enrollments;
  let stateDir: string;

  const wl = podWorkload;
  const req = (command: 'ADD' | 'DEL', p: PodNet, name: string): EnrollmentRequest => podRequest(command, p, name, sb.gateway);
  const savedPods = async (): Promise<string[]> => {
    const saved = JSON.parse(await readFile(join(stateDir, 'enrollments.json'), 'utf8')) as { pods: { name: string }[] };
    return saved.pods.map((x) => x.name).sort();
  };
  /**
   * Resolves when something listens on 15001 inside the pod (a connect from inside its netns). The agent
   * resets a direct connection to its own port (a self-call), possibly before the connect completes:
   * only a refused connection means nothing listens.
   */
  const listening = (p: PodNet): Promise<boolean> =>
    new Promise((resolve) => {
      const s = new NetnsSocketFactory(p.path, 0).connect('127.0.0.1', 15001);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED'));
    });

  beforeAll(async () => {
    await sb.up();
    pods = [await sb.pod('a'), await sb.pod('b'), await sb.pod('c')];
    // Known at the start: b. Unknown: a (appears later), c (never appears: waits the whole WAIT_MS).
    store.apply([{ kind: 'Workload', version: '1', upserts: [wl(pods[1], 'b')], removes: [], snapshotDone: true }]);
    fixture = await startEnrollments(store, sb.prefix, WAIT_MS);
    ({ enrollments, stateDir } = fixture);
  }, 60_000);

  afterAll(async () => {
    await fixture?.close();
    await sb.destroy();
  });

  it('an ADD waiting for cluster state holds up neither other pods nor itself once its Workload arrives', async () => {
    const [a, b, c] = pods;
    const done: string[] = [];
    const track = (name: string, p: Promise<unknown>): Promise<unknown> => p.then((r) => (done.push(name), r));
    const started = performance.now();
    const addC = track('c', enrollments.add(req('ADD', c, 'c'))); // never appears in state
    const addA = track('a', enrollments.add(req('ADD', a, 'a'))); // appears below
    const addB = track('b', enrollments.add(req('ADD', b, 'b'))); // known
    expect(await addB).toEqual({ captured: true, reason: 'enrolled' });
    // b did not queue behind c's (or a's) wait for cluster state.
    expect(done).toEqual(['b']);
    store.apply([{ kind: 'Workload', version: '2', upserts: [wl(a, 'a')], removes: [] }]);
    expect(await addA).toEqual({ captured: true, reason: 'enrolled' });
    // a woke on the state change, not at the end of its wait (c is still waiting for its own).
    expect(done).toEqual(['b', 'a']);
    const answerC = (await addC) as { captured: boolean; reason: string };
    expect(performance.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50);
    // Namespace knowledge decides for the pod that never showed up (its neighbours are captured).
    expect(answerC.captured).toBe(true);
    expect(done).toEqual(['b', 'a', 'c']);
  }, 60_000);

  it('when ADD answers, rules, listeners and the state file are in place; DEL removes them', async () => {
    const b = pods[1];
    await enrollments.add(req('ADD', b, 'b')); // repeated ADD (runtime retry): idempotent
    expect(await captureInstalled(b.path)).toBe(true);
    expect(await listening(b)).toBe(true);
    expect(await savedPods()).toEqual(['a', 'b', 'c']);
    expect(enrollments.size).toBe(3);

    await enrollments.del(req('DEL', b, 'b'));
    expect(await captureInstalled(b.path)).toBe(false);
    expect(await listening(b)).toBe(false);
    expect(await savedPods()).toEqual(['a', 'c']);
  }, 60_000);

  it('concurrent ADDs of one pod run one after the other and leave one enrollment', async () => {
    const a = pods[0];
    const answers = await Promise.all([enrollments.add(req('ADD', a, 'a')), enrollments.add(req('ADD', a, 'a')), enrollments.add(req('ADD', a, 'a'))]);
    for (const r of answers) expect(r.captured).toBe(true);
    expect(enrollments.list().filter((p) => p.name === 'a')).toHaveLength(1);
    expect(await sb.run(a.ns, 'sh', ['-c', 'ip rule show | grep -c "fwmark 0x111/0xfff"'])).toBe('1\n');
    expect(await listening(a)).toBe(true);
  }, 60_000);
});
