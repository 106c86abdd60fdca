import { authorizationPolicyStatus } from '../../control/status/authz.js';
import { asKind, validateObject } from '../../control/sources/schemas.js';
import type { KubeObject as SourceObject, ObjectRef as SourceRef } from '../../control/sources/source.js';
import { LABEL_USE_WAYPOINT } from '../../lib/names.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { AuthorizationPolicy, Gateway, Namespace, Service } from '../../lib/kube/resources.js';
import { listInstalled } from './context.js';

/**
 * Which AuthorizationPolicies would fail closed (WEFT-C011: L7 rules with no waypoint to enforce them, so
 * all the traffic they select is denied) once waypoint `namespace/name` is deleted and the namespace's
 * enrollment naming it removed, as `weft waypoint delete` does. The verdict is weft-control's own
 * (control/status/authz.ts) over the cluster as it would be after the deletion, so the warning and the
 * status written afterwards cannot disagree.
 */
export interface FailClosedPolicy {
  readonly policy: string;
  /** The condition message weft-control would write: what lost its waypoint. */
  readonly why: string;
}

export async function policiesFailingClosedWithout(client: ClusterClient, namespace: string, name: string): Promise<FailClosedPolicy[]> {
  const raw = [...(await client.list(Namespace)), ...(await client.list(Service)), ...(await listInstalled(client, Gateway)), ...(await listInstalled(client, AuthorizationPolicy))];
  const objects = raw.flatMap((o) => {
    const v = validateObject(o, { defaultNamespace: 'default' });
    return v.ok ? [v.object] : [];
  });
  const after = objects
    .filter((o) => !(o.kind === 'Gateway' && o.metadata.namespace === namespace && o.metadata.name === name))
    .map((o) => (o.kind === 'Namespace' && o.metadata.name === namespace && o.metadata.labels?.[LABEL_USE_WAYPOINT] === name ? withoutEnrollment(o) : o));
  const now = sourceOf(objects);
  const then = sourceOf(after);
  const out: FailClosedPolicy[] = [];
  for (const o of objects) {
    const policy = asKind(o, 'AuthorizationPolicy');
    if (policy === undefined) continue;
    const before = authorizationPolicyStatus(policy, now).conditions?.find((c) => c.type === 'Accepted');
    const next = authorizationPolicyStatus(policy, then).conditions?.find((c) => c.type === 'Accepted');
    if (before?.reason !== 'NoWaypoint' && next?.reason === 'NoWaypoint') out.push({ policy: `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}`, why: next.message ?? '' });
  }
  return out.sort((a, b) => a.policy.localeCompare(b.policy));
}

function withoutEnrollment(ns: SourceObject): SourceObject {
  const labels = { ...ns.metadata.labels };
  delete labels[LABEL_USE_WAYPOINT];
  return { ...ns, metadata: { ...ns.metadata, labels } };
}

function sourceOf(objects: readonly SourceObject[]): { get(ref: SourceRef): SourceObject | undefined } {
  const byKey = new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
  return { get: (ref) => byKey.get(`${ref.kind}/${ref.namespace ?? ''}/${ref.name}`) };
}
