// Pins: an AuthorizationPolicy that failed validation got `Accepted=False, Invalid: invalid policy, not
// enforced` — true then, since it was skipped, and a DENY denied nothing. It is now enforced fail closed
// (sources/authz-fail-closed.ts), and its status says so: Accepted=False, reason Invalid, the validation
// error, and what is enforced instead (deny what it selects / its whole namespace / allow nothing). Written
// through the source in a directory (status/ files, merged back into the fail-closed object without
// rewriting it on the next pass) and on Kubernetes (the /status subresource: on-kube/status.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { asKind } from '../../control/sources/schemas.js';
import { failClosedPolicy } from '../../control/sources/authz-fail-closed.js';
import { authorizationPolicyStatus } from '../../control/status/authz.js';
import { StatusController } from '../../control/status/controller.js';
import { AlwaysLeader } from '../../control/leader.js';
import type { ClusterSource } from '../../control/sources/source.js';
import { clusterDir, type ClusterDir } from './compile-fixtures.js';
import { BAD_ALLOW, BAD_DENY, BAD_SELECTOR, CLUSTER, UNKNOWN_ACTION } from './authz-unreadable-fixtures.js';

const noObjects: Pick<ClusterSource, 'get'> = { get: () => undefined };

function accepted(raw: Record<string, unknown>, reason: string): { status: string; reason?: string; message?: string; observedGeneration?: number } {
  const ap = failClosedPolicy(raw, reason)!;
  const conditions = authorizationPolicyStatus(ap, noObjects).conditions ?? [];
  expect(conditions).toHaveLength(1);
  return conditions[0];
}

describe('status of an unreadable AuthorizationPolicy', () => {
  it('says Invalid, why, and what is enforced instead', () => {
    const deny = accepted(BAD_DENY, 'spec.rules.0.to.0.operation.ports.0: must be a port number');
    expect(deny).toMatchObject({ status: 'False', reason: 'Invalid', observedGeneration: 3 });
    expect(deny.message).toBe(
      'invalid policy (spec.rules.0.to.0.operation.ports.0: must be a port number); enforced fail closed: it denies all traffic to what it selects. Fix the policy to enforce it as written.',
    );
    expect(accepted(BAD_ALLOW, 'x').message).toContain('it allows nothing: what it selects accepts only what other ALLOW policies allow');
    expect(accepted(BAD_SELECTOR, 'x').message).toContain('it denies all traffic to every workload in namespace ops (its selector/targetRefs cannot be read)');
    expect(accepted(UNKNOWN_ACTION, 'x').message).toContain('it denies all traffic to what it selects, since its action is not ALLOW or DENY');
  });

  describe('written by the status controller', () => {
    let cluster: ClusterDir | undefined;
    let controller: StatusController | undefined;
    afterEach(async () => {
      await controller?.stop();
      await cluster?.close();
      controller = cluster = undefined;
    });

    it('in a directory: a status file, merged back, stable on the next pass', async () => {
      cluster = await clusterDir([...CLUSTER, BAD_DENY]);
      const source = cluster.source;
      controller = new StatusController({ source, leader: new AlwaysLeader(), debounceMs: 10 });
      controller.start();
      const cond = await eventually(
        () => asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-web' }), 'AuthorizationPolicy')?.status?.conditions?.[0],
        15_000,
        'status merged into the fail-closed policy',
      );
      expect(cond).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Invalid', observedGeneration: 3 });
      expect(cond.message).toMatch(/^invalid policy \(spec\.rules\.0\.to\.0\.operation\.ports\.0: .*\); enforced fail closed: it denies all traffic to what it selects/);
      // Still enforced fail closed with its status merged in.
      expect(asKind(source.get({ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'deny-web' }), 'AuthorizationPolicy')?.spec.rules).toEqual([{}]);
      await controller.idle();
      const before = source.counters.fileReads;
      await controller.reconcile();
      await source.sync();
      expect(source.counters.fileReads).toBe(before); // nothing rewritten
    });
  });
});
