import { LeaderGatedController, type LeaderGatedOptions } from '../leader-gated.js';
import { listOf, refOf, type AuthorizationPolicyStatus, type RouteStatus } from '../sources/schemas.js';
import type { ClusterSource, ObjectKind, ObjectRef } from '../sources/source.js';
import { authorizationPolicyStatus, invalidPolicyStatus } from './authz.js';
import { sameJson } from './conditions.js';
import { allRoutes, invalidRouteStatus, routeStatus } from './routes.js';

/** `debounceMs`: quiet time after a change before recomputing (default 100 ms). */
export interface StatusControllerOptions extends LeaderGatedOptions {
  readonly source: ClusterSource;
}

/** Kinds whose changes can change a route's or a policy's status. */
const INPUT_KINDS: ReadonlySet<ObjectKind> = new Set(['HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'AuthorizationPolicy', 'Service', 'Namespace', 'Gateway']);
const STATUS_KINDS: ReadonlySet<ObjectKind> = new Set(['HTTPRoute', 'GRPCRoute', 'AuthorizationPolicy']);

interface InvalidObject {
  readonly ref: ObjectRef;
  readonly reason: string;
  readonly raw: unknown;
}

/**
 * Writes the status of HTTPRoutes/GRPCRoutes (Accepted + ResolvedRefs per parent, Gateway API reasons) and
 * AuthorizationPolicies (Accepted), also for objects that failed validation. Only the leader writes, and
 * only a status that differs from the one stored (conditions keep their lastTransitionTime), so a pass
 * over an unchanged cluster writes nothing. Gateway and GatewayClass status belong to the waypoint
 * controller.
 */
export class StatusController extends LeaderGatedController {
  /** Status last written for invalid objects (they are not in the source, so there is nothing to compare). */
  private readonly writtenInvalid = new Map<string, unknown>();

  constructor(private readonly options: StatusControllerOptions) {
    super(options, { component: 'status', watches: INPUT_KINDS, watchesInvalid: STATUS_KINDS, debounceMs: 100, failureMessage: 'status pass failed' });
  }

  protected async pass(): Promise<void> {
    const { source } = this.options;
    let writes = 0;
    for (const route of allRoutes(source)) {
      writes += await this.write(refOf(route), route.status, routeStatus(route, source));
    }
    for (const ap of listOf(source, 'AuthorizationPolicy')) {
      writes += await this.write(refOf(ap), ap.status, authorizationPolicyStatus(ap, source));
    }
    for (const inv of this.invalidOf(source)) {
      const key = keyOf(inv.ref);
      const previous = this.writtenInvalid.get(key) ?? (inv.raw as { status?: unknown } | undefined)?.status;
      const next =
        inv.ref.kind === 'AuthorizationPolicy'
          ? invalidPolicyStatus(inv.reason, previous as AuthorizationPolicyStatus | undefined, generationOf(inv.raw))
          : invalidRouteStatus(inv.raw, inv.reason, previous as RouteStatus | undefined);
      if (next === undefined || sameJson(previous, next)) continue;
      this.writtenInvalid.set(key, next);
      writes += await this.write(inv.ref, undefined, next);
    }
    if (writes > 0) this.log.debug({ writes }, 'status written');
  }

  /** The source's currently invalid objects of the kinds with status, with a usable ref. */
  private invalidOf(source: ClusterSource): InvalidObject[] {
    const out: InvalidObject[] = [];
    for (const info of source.invalidObjects?.() ?? []) {
      const { kind, name } = info.ref;
      if (kind === undefined || name === undefined || !STATUS_KINDS.has(kind)) continue;
      const ref: ObjectRef = { kind, name, namespace: info.ref.namespace ?? 'default' };
      if (source.get(ref) !== undefined) continue;
      out.push({ ref, reason: info.reason, raw: info.object });
    }
    return out;
  }

  private async write(ref: ObjectRef, current: unknown, next: unknown): Promise<number> {
    if (sameJson(current, next)) return 0;
    try {
      await this.options.source.writeStatus(ref, next);
      return 1;
    } catch (err) {
      this.log.warn({ ref, err: (err as Error).message }, 'writing %s status failed; will retry on the next change', ref.kind);
      return 0;
    }
  }
}

function keyOf(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

function generationOf(raw: unknown): number | undefined {
  const g = (raw as { metadata?: { generation?: unknown } } | undefined)?.metadata?.generation;
  return typeof g === 'number' ? g : undefined;
}
