import { LABEL_USE_WAYPOINT } from '../../lib/names.js';
import type { KubeObject } from '../../lib/kube/cluster-client.js';
import { conditionOf } from '../kube/conditions.js';
import { AuthorizationPolicy, Namespace, Service } from '../../lib/kube/resources.js';
import { editAdvice, listInstalled, nameOf, weftCommand, type Analysis, type AnalyzerContext } from './context.js';
import { finding, type Finding } from './findings.js';

/**
 * AuthorizationPolicies, from the status weft-control wrote (control/status/authz.ts decides, here it is
 * only read): `Accepted=False` with reason `NoWaypoint` is a policy enforced fail closed, all the traffic
 * it selects denied (WEFT-C011); any other `Accepted=False` is WEFT-C010; `FullySupported=False` WEFT-C012.
 */
export async function policyFindings(ctx: AnalyzerContext): Promise<Analysis> {
  const { client } = ctx;
  const policies = await listInstalled(client, AuthorizationPolicy);
  const findings: Finding[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? 'default';
    const object = `AuthorizationPolicy ${nameOf(p)}`;
    const edit = editAdvice(client, 'AuthorizationPolicy', ns, p.metadata.name);
    const accepted = conditionOf(p, 'Accepted');
    if (accepted?.status === 'False') {
      const why = `${accepted.reason ?? ''}${accepted.message ? `: ${accepted.message}` : ''}`;
      if (accepted.reason === 'NoWaypoint') {
        findings.push(finding('WEFT-C011', object, `fail closed, traffic denied: ${accepted.message ?? ''}`, `${await waypointAdvice(ctx, p)}; or remove its L7 fields (methods, paths): ${edit}`));
      } else {
        findings.push(finding('WEFT-C010', object, `not accepted: ${why}`, `Fix what the message says; ${edit}`));
      }
    }
    const supported = conditionOf(p, 'FullySupported');
    if (supported?.status === 'False') findings.push(finding('WEFT-C012', object, supported.message ?? supported.reason ?? 'unsupported fields', `Remove or replace the fields named; ${edit}`));
  }
  return { examined: `${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}`, findings };
}

/**
 * The waypoint a fail-closed policy needs, as a command: the one its Service or namespace already names
 * with weft.dev/use-waypoint (deleted, or never created), else a new one for the namespace.
 */
async function waypointAdvice(ctx: AnalyzerContext, policy: KubeObject): Promise<string> {
  const ns = policy.metadata.namespace ?? 'default';
  const targets = ((policy.spec?.targetRefs ?? []) as { kind?: string; name: string; namespace?: string }[]).filter((t) => t.kind === 'Service');
  let named: { namespace: string; name: string } | undefined;
  for (const t of targets) {
    const svc = await ctx.client.get({ type: Service, namespace: t.namespace ?? ns, name: t.name });
    const label = svc?.metadata.labels?.[LABEL_USE_WAYPOINT];
    if (label !== undefined && label !== 'none') named = { namespace: t.namespace ?? ns, name: label };
  }
  if (named === undefined) {
    const label = (await ctx.client.get({ type: Namespace, name: ns }))?.metadata.labels?.[LABEL_USE_WAYPOINT];
    if (label !== undefined && label !== 'none') named = { namespace: ns, name: label };
  }
  if (named !== undefined) return `Deploy the waypoint it is labelled with: \`${weftCommand(ctx.client, `waypoint apply -n ${named.namespace} --name ${named.name} --wait`)}\``;
  return `Deploy a waypoint and enroll the namespace: \`${weftCommand(ctx.client, `waypoint apply -n ${ns} --enroll-namespace --wait`)}\``;
}
