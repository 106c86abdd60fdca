// Pins: Lease leader election among three replicas yields exactly one leader at a time; when the leader
// stops renewing (its API calls fail, or it crashes) it steps down and another replica takes over after the
// lease expires, with no moment where two replicas lead; a released lease hands over at once. On a real
// API server (its Lease objects, resourceVersion conflicts and all).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApi } from '../../../control/sources/kube-api.js';
import { AlwaysLeader, LeaseLeaderElector } from '../../../control/leader.js';
import { eventually } from '../../support/eventually.js';
import type { KubeServer } from '../../support/kube-server.js';

const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 800, retryPeriodMs: 200 };

/** The real API client, with a switch that makes every call fail (a partitioned replica). */
function flakyApi(api: KubeApi) {
  // `calls` counts the calls that reached the API (renewals, or a follower's polls).
  const state = { broken: false, hang: false, calls: 0 };
  // A hanging request is the behaviour under test (it outlasts the lease), not a synchronisation.
  const guard = <T>(fn: () => Promise<T>): Promise<T> =>
    state.hang ? new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000)) : state.broken ? Promise.reject(new Error('partitioned')) : (state.calls++, fn());
  return {
    state,
    api: {
      getLease: (ns: string, name: string) => guard(() => api.getLease(ns, name)),
      createLease: (ns: string, name: string, spec: Parameters<KubeApi['createLease']>[2]) => guard(() => api.createLease(ns, name, spec)),
      updateLease: (lease: Parameters<KubeApi['updateLease']>[0]) => guard(() => api.updateLease(lease)),
    },
  };
}

export function describeLeaderElection(kube: () => KubeServer): void {
  describe('Lease leader election on a real API server', () => {
    let electors: LeaseLeaderElector[];
    let overlap: boolean;
    let sampler: NodeJS.Timeout;
    beforeEach(async () => {
      await kube().put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } });
      electors = [];
      overlap = false;
      sampler = setInterval(() => {
        if (electors.filter((e) => e.isLeader).length > 1) overlap = true;
      }, 5);
    });
    afterEach(async () => {
      clearInterval(sampler);
      await Promise.all(electors.map((e) => e.stop({ release: false })));
    });

    function spawn(n: number) {
      return Array.from({ length: n }, (_, i) => {
        const flaky = flakyApi(new KubeApi(kube().kc));
        const e = new LeaseLeaderElector({ api: flaky.api, namespace: 'weft-system', identity: `replica-${i}`, ...TIMING });
        electors.push(e);
        return { e, flaky };
      });
    }

    it('elects one leader, fails over when it stops renewing, never two at once', async () => {
      const replicas = spawn(3);
      for (const r of replicas) r.e.start();
      const first = await eventually(() => replicas.find((r) => r.e.isLeader), 15_000, 'a leader');
      const renewals = first.flaky.state.calls;
      await eventually(() => first.flaky.state.calls >= renewals + 6, 15_000, 'several renew rounds (a get and an update each)');
      expect(replicas.filter((r) => r.e.isLeader)).toHaveLength(1);
      expect(first.e.isLeader).toBe(true); // renewals keep it

      let steppedDown = false;
      first.e.on('follower', () => (steppedDown = true));
      first.flaky.state.broken = true;
      const second = await eventually(() => replicas.find((r) => r !== first && r.e.isLeader), 15_000, 'failover');
      expect(steppedDown).toBe(true);
      expect(first.e.isLeader).toBe(false);
      const lease = (await kube().get('Lease', 'weft-system', 'weft-control')) as unknown as { spec: { holderIdentity: string; leaseTransitions: number } };
      expect(lease.spec.holderIdentity).toBe(second.e.identity);
      expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);

      // The partitioned replica comes back as a follower.
      first.flaky.state.broken = false;
      const polls = first.flaky.state.calls;
      await eventually(() => first.flaky.state.calls >= polls + 3, 15_000, 'the returned replica polling the lease');
      expect(first.e.isLeader).toBe(false);
      expect(overlap).toBe(false);
    });

    it('steps down on time even while a renew request hangs', async () => {
      const replicas = spawn(2);
      for (const r of replicas) r.e.start();
      const first = await eventually(() => replicas.find((r) => r.e.isLeader), 15_000, 'a leader');
      first.flaky.state.hang = true; // requests hang for 3 s, longer than the lease
      await eventually(() => replicas.find((r) => r !== first && r.e.isLeader), 15_000, 'failover');
      expect(first.e.isLeader).toBe(false);
      expect(overlap).toBe(false);
    });

    it('hands over at once when the leader releases the lease, and after expiry when it crashes', async () => {
      const replicas = spawn(3);
      for (const r of replicas) r.e.start();
      const first = await eventually(() => replicas.find((r) => r.e.isLeader), 15_000, 'a leader');
      await first.e.stop(); // releases
      const t0 = Date.now();
      const second = await eventually(() => replicas.find((r) => r !== first && r.e.isLeader), 15_000, 'handover');
      expect(Date.now() - t0).toBeLessThan(TIMING.leaseDurationMs + 2000);
      await second.e.stop({ release: false }); // crash: the lease must expire first
      const third = await eventually(() => replicas.find((r) => r !== first && r !== second && r.e.isLeader), 15_000, 'takeover after expiry');
      expect(third.e.isLeader).toBe(true);
      expect(overlap).toBe(false);
    });

    it('directory mode is always the leader', async () => {
      const l = new AlwaysLeader();
      let announced = false;
      l.on('leader', () => (announced = true));
      l.start();
      await Promise.resolve();
      expect(l.isLeader && announced).toBe(true);
    });
  });
}
