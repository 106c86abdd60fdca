import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCertifier } from '../../lib/identity/index.js';
import type { EnrollmentRequest } from '../../lib/enrollment.js';
import { WorkloadSchema, type StateStore, type Workload } from '../../lib/model/index.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { createRegistry } from '../../lib/telemetry/metrics.js';
import { createDataplane, type Dataplane } from '../../node-agent/dataplane.js';
import { Enrollments } from '../../node-agent/enroll/enrollments.js';
import { StateFile } from '../../node-agent/enroll/state-file.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { mintCa } from './pki.js';

export interface EnrollmentsFixture {
  readonly dp: Dataplane;
  readonly enrollments: Enrollments;
  /** Where the state file (enrollments.json) is written. */
  readonly stateDir: string;
  /** Stops the listeners and the data plane, removes the state directory. */
  close(): Promise<void>;
}

/**
 * The node agent's enrollment side for component tests: a real data plane with a fresh CA, node `n1`,
 * pod sockets in the pods' own namespaces, the state file in a temp dir named with `prefix`.
 */
export async function startEnrollments(store: StateStore, prefix: string, waitMs?: number): Promise<EnrollmentsFixture> {
  const stateDir = await mkdtemp(join(tmpdir(), `${prefix}state-`));
  const ca = await mintCa();
  const dp = createDataplane({ view: store, certifier: new LocalCertifier(ca), trustDomain: 'cluster.local', fallbackRoots: ca.rootsPem, registry: createRegistry({ defaultMetrics: false }), log: silentLogger, accessLog: silentLogger });
  const enrollments = new Enrollments({ view: store, inputs: dp.inputs, stateFile: new StateFile(stateDir), nodeName: 'n1', factoryFor: (netns) => new NetnsSocketFactory(netns), log: silentLogger, waitMs });
  return {
    dp,
    enrollments,
    stateDir,
    close: async () => {
      enrollments.close();
      dp.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** A captured Workload `shop/<name>` on node n1 at the pod's address. */
export function podWorkload(pod: { readonly ip: string }, name: string): Workload {
  return WorkloadSchema.parse({ uid: `uid-${name}`, name, namespace: 'shop', serviceAccount: 'sa', node: 'n1', ips: [pod.ip], captured: true, labels: { app: name } });
}

/** What weft-cni sends for pod `shop/<name>`; the previous result names `gateway` when one is given. */
export function podRequest(command: 'ADD' | 'DEL', pod: { readonly path: string; readonly ip: string }, name: string, gateway?: string): EnrollmentRequest {
  return {
    command,
    containerId: `c-${name}`,
    netns: pod.path,
    ifname: 'eth0',
    podNamespace: 'shop',
    podName: name,
    podUid: `uid-${name}`,
    config: { cniVersion: '1.0.0', name: 'weft', type: 'weft-cni' },
    prevResult: { cniVersion: '1.0.0', ips: [{ address: `${pod.ip}/24`, ...(gateway ? { gateway } : {}) }] },
  };
}
