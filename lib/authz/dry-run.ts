import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../telemetry/log.js';
import type { AuthzDecision } from './compile.js';
import type { AuthzRequest, L7AuthzRequest, PolicySet } from './evaluate.js';

// Policy dry-run (`weft.dev/dry-run: "true"`, Istio's `istio.io/dry-run`): where dry-run policies apply
// to a connection (node agent, L4) or a request (waypoint, L7), the would-be verdict — every policy
// evaluated as if the dry-run ones were enforced — is logged and counted; the enforced verdict comes from
// the policies without them. Nothing here runs where no dry-run policy applies (PolicySet.dryRun is then
// undefined), so the enforcing path keeps its cost.

export type DryRunReporter = 'destination' | 'waypoint';
export type DryRunVerdict = 'would_allow' | 'would_deny';

const METRIC = 'weft_authz_dry_run_total';

export class DryRunRecorder {
  private readonly counter: Counter<'reporter' | 'policy' | 'rule' | 'verdict'>;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    private readonly reporter: DryRunReporter,
  ) {
    // One per process; a registry shared by a test's agents gets the one already there.
    const existing = registry.getSingleMetric(METRIC);
    this.counter =
      existing instanceof Counter
        ? existing
        : new Counter({
            name: METRIC,
            help: 'Verdicts of dry-run AuthorizationPolicies (weft.dev/dry-run: "true"): what would have happened with them enforced, by the deciding policy (namespace/name; all ALLOW policies, comma-separated, when none matched) and rule index',
            labelNames: ['reporter', 'policy', 'rule', 'verdict'],
            registers: [registry],
          });
  }

  /** L4: records the would-be verdict for a connection where dry-run policies apply; returns it. */
  l4(set: PolicySet, req: AuthzRequest, enforced: AuthzDecision, context: object): AuthzDecision | undefined {
    const shadow = set.dryRun;
    if (shadow === undefined) return undefined;
    return this.record(shadow.authorizeL4(req), enforced, context);
  }

  /** L7: the same for a request at a waypoint. */
  l7(set: PolicySet, req: L7AuthzRequest, enforced: AuthzDecision, context: object): AuthzDecision | undefined {
    const shadow = set.dryRun;
    if (shadow === undefined) return undefined;
    return this.record(shadow.authorizeL7(req), enforced, context);
  }

  private record(d: AuthzDecision, enforced: AuthzDecision, context: object): AuthzDecision {
    const verdict: DryRunVerdict = d.allowed ? 'would_allow' : 'would_deny';
    const policy = d.policy ?? 'none';
    const rule = d.rule === undefined ? 'none' : String(d.rule);
    this.counter.inc({ reporter: this.reporter, policy, rule, verdict });
    this.log.info({ ...context, dry_run: verdict, policy, rule: d.rule, reason: d.reason, enforced: enforced.allowed ? 'allow' : 'deny' }, `policy dry-run: ${verdict}`);
    return d;
  }
}
