// Metric labels name the workload a pod belongs to, never the pod (#12): the owner is derived from the
// pod's controller reference as Istio derives it, so that a rollout or a restart keeps the same series.
import { describe, expect, it } from 'vitest';
import { Compiler } from '../../control/discovery/compile.js';
import { workloadOwnerName } from '../../control/discovery/workload-owner.js';
import { resourceFromProto, resourceToProto } from '../../lib/control-client/convert.js';
import { workloadLabelOf } from '../../lib/model/index.js';
import { clusterDir, pod, type ClusterDir } from './compile-fixtures.js';

const ref = (kind: string, name: string, controller = true) => ({ apiVersion: 'apps/v1', kind, name, uid: `u-${name}`, controller });

describe('workload owner', () => {
  it('names the Deployment behind a ReplicaSet, the CronJob behind a Job, and other controllers as they are', () => {
    expect(workloadOwnerName({ name: 'web-7c9d8-x2x4p', labels: { 'pod-template-hash': '7c9d8' }, ownerReferences: [ref('ReplicaSet', 'web-7c9d8')] })).toBe('web');
    // A ReplicaSet made by hand (no matching hash) is its own workload.
    expect(workloadOwnerName({ name: 'rs-abc12', labels: {}, ownerReferences: [ref('ReplicaSet', 'rs')] })).toBe('rs');
    expect(workloadOwnerName({ name: 'db-0', ownerReferences: [ref('StatefulSet', 'db')] })).toBe('db');
    expect(workloadOwnerName({ name: 'agent-q8z7k', ownerReferences: [ref('DaemonSet', 'weft-node-agent')] })).toBe('weft-node-agent');
    expect(workloadOwnerName({ name: 'backup-29456120-abcde', ownerReferences: [ref('Job', 'backup-29456120')] })).toBe('backup');
    expect(workloadOwnerName({ name: 'migrate-xyz', ownerReferences: [ref('Job', 'migrate')] })).toBe('migrate');
    // The lab's own controller owns pods directly from the Deployment.
    expect(workloadOwnerName({ name: 'frontend-b2c4d', ownerReferences: [ref('Deployment', 'frontend')] })).toBe('frontend');
    // The controller reference wins over other owners.
    expect(workloadOwnerName({ name: 'p', ownerReferences: [ref('ConfigMap', 'cm', false), ref('StatefulSet', 'ss')] })).toBe('ss');
    expect(workloadOwnerName({ name: 'bare' })).toBeUndefined();
  });

  let cluster: ClusterDir | undefined;
  it('reaches the data planes: two pods of one Deployment share one workload label, a bare pod keeps its name', async () => {
    const owned = (name: string, uid: string) => {
      const p = pod(name, { ns: 'shop', uid, labels: { 'pod-template-hash': '5f6b7' } }) as { metadata: Record<string, unknown> };
      p.metadata.ownerReferences = [ref('ReplicaSet', 'cart-5f6b7')];
      return p;
    };
    cluster = await clusterDir([owned('cart-5f6b7-aaaaa', 'u1'), owned('cart-5f6b7-bbbbb', 'u2'), pod('debug', { ns: 'shop', uid: 'u3' })]);
    try {
      const c = new Compiler(cluster.source, { trustDomain: 'cluster.local', endpoints: 'selectors' });
      c.rebuild();
      // Through the wire form, as a node agent or waypoint receives it.
      const received = (uid: string) => resourceFromProto('Workload', resourceToProto('Workload', c.workloads.get(uid)!.value)) as { name: string; workloadName?: string };
      expect(workloadLabelOf(received('u1'))).toBe('cart');
      expect(workloadLabelOf(received('u2'))).toBe('cart');
      expect(received('u3').workloadName).toBeUndefined();
      expect(workloadLabelOf(received('u3'))).toBe('debug');
    } finally {
      await cluster.close();
    }
  });
});
