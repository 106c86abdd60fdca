// CNI ADD starts no process (issue #14, the agent's own ADD work): the capture rules and routing go in
// over netlink from the agent's native module, not through `nsenter nft -f` / `nsenter ip -batch`
// (two process pairs that were most of the ~17 ms the agent spent per ADD). Two independent checks:
// the ADD runs with a PATH where no nft, ip or nsenter can be found, and Node's `child_process`
// diagnostics channel (published for every spawn, exec and fork) counts no child during it. Then the
// capture must really be there: rules, policy routing, listeners.
import 'reflect-metadata';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StateStore } from '../../lib/model/index.js';
import { captureInstalled } from '../../node-agent/enroll/capture.js';
import { podRequest, podWorkload, startEnrollments, type EnrollmentsFixture } from '../support/enrollments.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent CNI ADD spawns no process (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  const store = new StateStore();
  let pod: PodNet;
  let bare: PodNet;
  let fixture: EnrollmentsFixture;

  beforeAll(async () => {
    await sb.up();
    pod = await sb.pod('quiet');
    bare = await sb.pod('bare');
    store.apply([{ kind: 'Workload', version: '1', upserts: [podWorkload(pod, 'quiet'), podWorkload(bare, 'bare')], removes: [], snapshotDone: true }]);
    fixture = await startEnrollments(store, sb.prefix);
  }, 60_000);

  afterAll(async () => {
    await fixture?.close();
    await sb.destroy();
  });

  /** Runs fn with a PATH where nothing can be found, and returns what it spawned (spawnfile per child). */
  const withoutProcesses = async <T>(fn: () => Promise<T>): Promise<{ result: T; spawned: string[] }> => {
    const emptyBin = await mkdtemp(join(tmpdir(), `${sb.prefix}nobin-`));
    const spawned: string[] = [];
    const onSpawn = (message: unknown): void => {
      spawned.push((message as { process?: { spawnfile?: string } }).process?.spawnfile ?? '?');
    };
    const path = process.env.PATH;
    process.env.PATH = emptyBin;
    subscribe('child_process', onSpawn);
    try {
      return { result: await fn(), spawned };
    } finally {
      unsubscribe('child_process', onSpawn);
      process.env.PATH = path;
      await rm(emptyBin, { recursive: true, force: true });
    }
  };

  /** The capture is really there (checked with the tools, PATH being back). */
  const expectCaptured = async (p: PodNet): Promise<void> => {
    expect(await captureInstalled(p.path)).toBe(true);
    const table = await sb.run(p.ns, 'nft', ['list', 'table', 'inet', 'weft']);
    expect(table).toContain(`ip saddr ${sb.gateway} return`);
    expect(table).toContain('redirect to :15006');
    expect(table).toContain('redirect to :15001');
    expect(await sb.run(p.ns, 'ip', ['route', 'show', 'table', '100'])).toContain('local default dev lo');
  };

  it('ADD captures the pod with no nft, ip or nsenter on PATH and no child process started', async () => {
    const { result, spawned } = await withoutProcesses(() => fixture.enrollments.add(podRequest('ADD', pod, 'quiet', sb.gateway)));
    expect(spawned).toEqual([]);
    expect(result).toEqual({ captured: true, reason: 'enrolled' });
    await expectCaptured(pod);
  }, 60_000);

  it('ADD whose previous result names no gateway finds the pod\'s own, still without a process', async () => {
    const { result, spawned } = await withoutProcesses(() => fixture.enrollments.add(podRequest('ADD', bare, 'bare')));
    expect(spawned).toEqual([]);
    expect(result).toEqual({ captured: true, reason: 'enrolled' });
    await expectCaptured(bare);
  }, 60_000);
});
