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
import type { EnrollmentRequest } from '../../lib/enrollment.js';
import { LocalCertifier } from '../../lib/identity/index.js';
import { StateStore, WorkloadSchema } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { captureInstalled } from '../../node-agent/enroll/capture.js';
import { Enrollments } from '../../node-agent/enroll/enrollments.js';
import { StateFile } from '../../node-agent/enroll/state-file.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { mintCa } from '../support/pki.js';
import { NetnsSandbox, type PodNet } from '../support/netns.js';
import { describeRoot } from '../support/root.js';

describeRoot('node-agent CNI ADD spawns no process (needs root: network namespaces, nftables)', () => {
  const sb = new NetnsSandbox();
  const store = new StateStore();
  let pod: PodNet;
  let dp: Dataplane;
  let enrollments: Enrollments;
  let stateDir: string;

  beforeAll(async () => {
    await sb.up();
    pod = await sb.pod('quiet');
    stateDir = await mkdtemp(join(tmpdir(), `${sb.prefix}state-`));
    const ca = await mintCa();
    const w = WorkloadSchema.parse({ uid: 'uid-quiet', name: 'quiet', namespace: 'shop', serviceAccount: 'sa', node: 'n1', ips: [pod.ip], captured: true, labels: { app: 'quiet' } });
    store.apply([{ kind: 'Workload', version: '1', upserts: [w], removes: [], snapshotDone: true }]);
    dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: silentLogger });
    enrollments = new Enrollments({ view: store, inputs: dp.inputs, stateFile: new StateFile(stateDir), nodeName: 'n1', factoryFor: (netns) => new NetnsSocketFactory(netns), log: silentLogger });
  }, 60_000);

  afterAll(async () => {
    enrollments?.close();
    dp?.close();
    await sb.destroy();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('ADD captures the pod with no nft, ip or nsenter on PATH and no child process started', async () => {
    const req: EnrollmentRequest = {
      command: 'ADD',
      containerId: 'c-quiet',
      netns: pod.path,
      ifname: 'eth0',
      podNamespace: 'shop',
      podName: 'quiet',
      podUid: 'uid-quiet',
      config: { cniVersion: '1.0.0', name: 'weft', type: 'weft-cni' },
      prevResult: { cniVersion: '1.0.0', ips: [{ address: `${pod.ip}/24`, gateway: sb.gateway }] },
    };
    const emptyBin = await mkdtemp(join(tmpdir(), `${sb.prefix}nobin-`));
    const spawned: string[] = [];
    const onSpawn = (message: unknown): void => {
      const p = (message as { process?: { spawnfile?: string } }).process;
      spawned.push(p?.spawnfile ?? '?');
    };
    const path = process.env.PATH;
    process.env.PATH = emptyBin;
    subscribe('child_process', onSpawn);
    let answer: unknown;
    try {
      answer = await enrollments.add(req);
    } finally {
      unsubscribe('child_process', onSpawn);
      process.env.PATH = path;
      await rm(emptyBin, { recursive: true, force: true });
    }
    expect(spawned).toEqual([]);
    expect(answer).toEqual({ captured: true, reason: 'enrolled' });
    // The capture is really there (checked with the tools, now that PATH is back).
    expect(await captureInstalled(pod.path)).toBe(true);
    const table = await sb.run(pod.ns, 'nft', ['list', 'table', 'inet', 'weft']);
    expect(table).toContain(`ip saddr ${sb.gateway} return`);
    expect(table).toContain('redirect to :15006');
    expect(table).toContain('redirect to :15001');
    expect(await sb.run(pod.ns, 'ip', ['route', 'show', 'table', '100'])).toContain('local default dev lo');
  }, 60_000);
});
