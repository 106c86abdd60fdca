import { asKind, type AuthorizationPolicyObject, type AuthorizationPolicyStatus } from '../sources/schemas.js';
import type { ClusterSource } from '../sources/source.js';
import { condition } from './conditions.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import { waypointOf } from './routes.js';
import { unsupportedFieldsMessage, unsupportedPolicyFields } from '../discovery/authz-unsupported.js';
import { unreadableMessage, unreadableOf } from '../sources/authz-fail-closed.js';

/**
 * AuthorizationPolicy `Accepted` (reasons after GEP-713 policy conditions: Accepted, TargetNotFound,
 * Invalid; plus `NoWaypoint`): a policy with L7 fields (methods, paths) is enforced by a waypoint only, so
 * when what it targets has none, the node agent enforces it as DENY for the traffic it selects (fail
 * closed, ARCHITECTURE.md) and the condition says so. Fields weft does not implement add the warning
 * condition `FullySupported=False` (reason `UnsupportedValue`) naming them and how they are enforced.
 * A policy that failed validation is served in its fail-closed form (sources/authz-fail-closed.ts):
 * `Accepted=False`, reason `Invalid`, with the validation error and what is enforced instead.
 */
export function authorizationPolicyStatus(ap: AuthorizationPolicyObject, source: Pick<ClusterSource, 'get'>, now?: Date): AuthorizationPolicyStatus {
  const prev = ap.status?.conditions;
  const gen = ap.metadata.generation;
  const ns = ap.metadata.namespace ?? 'default';
  const unreadable = unreadableOf(ap);
  if (unreadable !== undefined) return { ...ap.status, conditions: [condition('Accepted', false, 'Invalid', unreadableMessage(unreadable, ns), gen, prev, now)] };
  const hasL7 = (ap.spec.rules ?? []).some((r) =>
    (r.to ?? []).some((t) => [t.operation.methods, t.operation.notMethods, t.operation.paths, t.operation.notPaths].some((f) => (f?.length ?? 0) > 0)),
  );
  const missing: string[] = [];
  const invalid: string[] = [];
  const noWaypoint: string[] = [];
  for (const t of ap.spec.targetRefs ?? []) {
    const tns = t.namespace ?? ns;
    if (t.kind === 'Service' && (t.group === undefined || t.group === '' || t.group === 'core')) {
      const svc = source.get({ kind: 'Service', namespace: tns, name: t.name });
      if (svc === undefined) missing.push(`Service ${tns}/${t.name}`);
      else if (hasL7) {
        const b = waypointOf(source, tns, svc.metadata.labels);
        if (b.gateway === undefined) noWaypoint.push(`Service ${tns}/${t.name} (${b.why ?? ''})`);
      }
    } else if (t.kind === 'Gateway' && (t.group === undefined || t.group === 'gateway.networking.k8s.io')) {
      const gw = asKind(source.get({ kind: 'Gateway', namespace: tns, name: t.name }), 'Gateway');
      if (gw === undefined) missing.push(`Gateway ${tns}/${t.name}`);
      else if (gw.spec.gatewayClassName !== WAYPOINT_CLASS) invalid.push(`Gateway ${tns}/${t.name} is not a weft waypoint`);
    } else {
      invalid.push(`targetRef kind ${t.group ?? ''}/${t.kind} (only Service and Gateway)`);
    }
  }
  if ((ap.spec.targetRefs?.length ?? 0) === 0 && hasL7) {
    // selector or namespace-wide: workloads reach a waypoint only through their namespace's binding
    const b = waypointOf(source, ns, undefined);
    if (b.gateway === undefined) noWaypoint.push(`the workloads it selects in ${ns} (${b.why ?? ''})`);
  }
  let accepted;
  if (invalid.length > 0) accepted = condition('Accepted', false, 'Invalid', invalid.join('; '), gen, prev, now);
  else if (missing.length > 0) accepted = condition('Accepted', false, 'TargetNotFound', `not found: ${missing.join(', ')}`, gen, prev, now);
  else if (noWaypoint.length > 0) {
    accepted = condition(
      'Accepted',
      false,
      'NoWaypoint',
      `L7 rules (methods/paths) need a waypoint, and none serves ${noWaypoint.join('; ')}; enforced as DENY for the traffic it selects (fail closed)`,
      gen,
      prev,
      now,
    );
  } else accepted = condition('Accepted', true, 'Accepted', hasL7 ? 'Enforced by the waypoint' : 'Enforced by the node agents', gen, prev, now);
  // A warning, not a refusal: the policy is enforced, fail closed (discovery/authz-unsupported.ts).
  const unsupported = unsupportedPolicyFields(ap.spec.rules);
  if (unsupported.length === 0) return { ...ap.status, conditions: [accepted] };
  const warning = condition('FullySupported', false, 'UnsupportedValue', unsupportedFieldsMessage(ap.spec.action ?? 'ALLOW', unsupported), gen, prev, now);
  return { ...ap.status, conditions: [accepted, warning] };
}

/** Status for a policy that failed validation so badly that it is not served at all (no readable name). */
export function invalidPolicyStatus(reason: string, previous: AuthorizationPolicyStatus | undefined, generation: number | undefined, now?: Date): AuthorizationPolicyStatus {
  return { conditions: [condition('Accepted', false, 'Invalid', `invalid policy, not enforced: ${reason}`, generation, previous?.conditions, now)] };
}
