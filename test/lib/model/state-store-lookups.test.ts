// The data plane's state store answers "which pod is this" by uid, IP, name and node from indexes kept in
// step with every delta: a pod that moves IP, is replaced under the same name, or is removed must never be
// found under its old key.
import { describe, expect, it } from 'vitest';
import { StateStore, WorkloadSchema, type Workload } from '../../../lib/model/index.js';

function pod(uid: string, name: string, node: string, ip: string): Workload {
  return WorkloadSchema.parse({ uid, name, namespace: 'shop', node, ips: [ip] });
}

describe('StateStore lookups', () => {
  it('finds workloads by name and by node, and follows replacements and removals', () => {
    const s = new StateStore();
    s.apply([{ kind: 'Workload', version: '1', upserts: [pod('u1', 'web-1', 'n1', '10.0.0.1'), pod('u2', 'db-0', 'n2', '10.0.0.2')], removes: [] }]);
    expect(s.workloadByName('shop', 'web-1')?.uid).toBe('u1');
    expect(s.workloadByName('other', 'web-1')).toBeUndefined();
    expect(s.workloadsOnNode('n1').map((w) => w.name)).toEqual(['web-1']);
    expect(s.workloadsOnNode('n3')).toEqual([]);

    // The same pod name comes back with a new uid, on another node, with another IP.
    s.apply([{ kind: 'Workload', version: '2', upserts: [pod('u3', 'web-1', 'n2', '10.0.0.3')], removes: ['u1'] }]);
    expect(s.workloadByName('shop', 'web-1')?.uid).toBe('u3');
    expect(s.workloadsOnNode('n1')).toEqual([]);
    expect(s.workloadsOnNode('n2').map((w) => w.name).sort()).toEqual(['db-0', 'web-1']);
    expect(s.workloadByIp('10.0.0.1')).toBeUndefined();

    s.apply([{ kind: 'Workload', version: '3', upserts: [], removes: ['u3'] }]);
    expect(s.workloadByName('shop', 'web-1')).toBeUndefined();
    expect(s.workloadsOnNode('n2').map((w) => w.name)).toEqual(['db-0']);
  });
});
