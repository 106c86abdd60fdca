import type { AuthorizationPolicy, AuthzTarget, Workload } from '../model/index.js';

/**
 * The rows `weft get workloads|policies` shows, built by the component that holds the state (node agent
 * or waypoint) from what it holds, so the CLI shows that component's view and nothing recomputed. Both
 * components answer with these shapes (`/debug/workloads`, `/debug/policies`).
 */
export interface WorkloadRow {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly node: string;
  readonly identity: string;
  readonly captured: boolean;
  /** `<namespace>/<name>` of the waypoint traffic to this workload itself goes through, if any. */
  readonly waypoint: string | undefined;
  readonly mtlsMode: string;
  readonly ready: boolean;
}

export interface PolicyRow {
  readonly namespace: string;
  readonly name: string;
  /** Where it applies: `namespace`, `selector app=web`, `service web`, `gateway wp` (several joined by `, `). */
  readonly scope: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly rules: number;
  /** Evaluated, logged and counted, not enforced (`weft.dev/dry-run`); false while the model carries no such flag. */
  readonly dryRun: boolean;
}

export function workloadRows(workloads: Iterable<Workload>, trustDomain: string): WorkloadRow[] {
  const rows: WorkloadRow[] = [];
  for (const w of workloads) {
    rows.push({
      namespace: w.namespace,
      name: w.name,
      ips: w.ips,
      node: w.node,
      identity: `spiffe://${trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`,
      captured: w.captured,
      waypoint: w.waypoint ? `${w.waypoint.namespace}/${w.waypoint.name}` : undefined,
      mtlsMode: w.mtlsMode,
      ready: w.ready,
    });
  }
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function policyRows(policies: Iterable<AuthorizationPolicy>): PolicyRow[] {
  const rows: PolicyRow[] = [];
  for (const p of policies) {
    rows.push({
      namespace: p.namespace,
      name: p.name,
      scope: p.targets.map(scopeOf).join(', '),
      action: p.action,
      rules: p.rules.length,
      // The dry-run flag joins the policy model with issue 12 item 4; read it without requiring it.
      dryRun: (p as { readonly dryRun?: unknown }).dryRun === true,
    });
  }
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

function scopeOf(t: AuthzTarget): string {
  switch (t.kind) {
    case 'namespace':
      return 'namespace';
    case 'selector':
      return `selector ${Object.entries(t.matchLabels).map(([k, v]) => `${k}=${v}`).join(',')}`;
    case 'service':
      return `service ${t.name}`;
    case 'gateway':
      return `gateway ${t.name}`;
  }
}
