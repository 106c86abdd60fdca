import { LeaderGatedController, type LeaderGatedOptions } from '../leader-gated.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import { asKind, listOf, refOf, type GatewayObject } from '../sources/schemas.js';
import type { ClusterSource, KubeObject, ObjectKind, ObjectRef } from '../sources/source.js';
import { sameJson } from '../status/conditions.js';
import { gatewayClassStatus, waypointGatewayStatus } from '../status/gateway.js';
import {
  CONFIG_HASH_ANNOTATION,
  GATEWAY_LABEL,
  MANAGED_BY_LABEL,
  WAYPOINT_FIELD_MANAGER,
  waypointObjects,
  type WaypointTemplateOptions,
} from './objects.js';
import { waypointParameters } from './parameters.js';
import { WeftError } from '../../lib/errors/index.js';

/** `debounceMs`: quiet time after a change before reconciling (default 50 ms). */
export interface WaypointControllerOptions extends WaypointTemplateOptions, LeaderGatedOptions {
  readonly source: ClusterSource;
  /** The control plane's namespace: where the GatewayClass's parametersRef ConfigMap must be (default weft-system). */
  readonly controlNamespace?: string;
  /** Discovery (control/discovery/watch-service.ts): whether node agents know a ready waypoint replica.
   *  Without it, Programmed stops at a ready replica. */
  readonly propagation?: { waypointPropagation(namespace: string, name: string): string | undefined };
  /** How often to look again while only propagation keeps a waypoint from Programmed (default 250 ms). */
  readonly propagationRecheckMs?: number;
}

const GENERATED_KINDS: readonly ObjectKind[] = ['ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget'];
// Pods: a waypoint replica turning Ready (or not) changes Programmed. ConfigMaps: the class's parameters.
const WATCHED_KINDS: ReadonlySet<ObjectKind> = new Set(['Gateway', 'GatewayClass', 'Pod', 'ConfigMap', ...GENERATED_KINDS]);

/**
 * For every Gateway of class `weft-waypoint`: apply its ServiceAccount, Deployment and Service (owned by
 * the Gateway, server-side apply with field manager `weft-waypoint-controller`), write the Gateway's and the
 * GatewayClass's status, and delete what it generated for Gateways that are gone. Only the leader acts;
 * a replica that becomes leader reconciles everything at once.
 */
export class WaypointController extends LeaderGatedController {
  private readonly errors = new Map<string, string>(); // gateway key → last apply error
  private parametersError: string | undefined; // the last one logged, so that each is logged once

  constructor(private readonly options: WaypointControllerOptions) {
    super(options, { component: 'waypoints', watches: WATCHED_KINDS, debounceMs: 50, failureMessage: 'waypoint reconcile failed' });
  }

  /** One full pass; idempotent, so a pass with nothing to do writes nothing. */
  protected async pass(): Promise<void> {
    const { source } = this.options;
    // A Gateway being deleted gets nothing applied: with foreground deletion (kubectl's, weft waypoint
    // delete's) it stays until the garbage collector removed its Deployment and Service, and applying
    // them again each pass kept it, and its waypoint, for good. Its objects are orphans from now on.
    const gateways = listOf(source, 'Gateway').filter((g) => g.spec.gatewayClassName === WAYPOINT_CLASS && g.metadata.deletionTimestamp === undefined);
    const wanted = new Set<string>();
    let propagating = false;
    const ready = gateways.length > 0 ? readyReplicas(source) : new Map<string, number>();
    const params = waypointParameters(source, this.options.controlNamespace ?? 'weft-system');
    this.reportParameters(params.ok ? undefined : params.reason);
    for (const gw of gateways) {
      const gwKey = `${gw.metadata.namespace ?? ''}/${gw.metadata.name}`;
      if (!params.ok) {
        // Keep what runs; a fixed GatewayClass or ConfigMap schedules the next pass.
        for (const kind of GENERATED_KINDS) wanted.add(`${kind}/${gw.metadata.namespace ?? ''}/${gw.metadata.name}`);
        await this.writeGatewayStatus(gw, `the parameters of GatewayClass ${WAYPOINT_CLASS} are invalid: ${params.reason}`, ready.get(gwKey) ?? 0);
        continue;
      }
      const objects = waypointObjects(gw, this.options, params.parameters);
      let failed: string | undefined;
      for (const desired of objects) {
        wanted.add(keyOf(desired));
        const current = source.get(refOf(desired));
        if (current?.metadata.annotations?.[CONFIG_HASH_ANNOTATION] === desired.metadata.annotations?.[CONFIG_HASH_ANNOTATION]) continue;
        try {
          await source.apply(desired, WAYPOINT_FIELD_MANAGER);
          this.log.info({ gateway: gwKey, kind: desired.kind }, 'applied waypoint %s', desired.kind);
        } catch (err) {
          failed = (err as Error).message;
          this.log.warn({ gateway: gwKey, kind: desired.kind, err: failed }, 'applying the waypoint %s failed; will retry', desired.kind);
        }
      }
      if (failed !== undefined) this.errors.set(gwKey, failed);
      else this.errors.delete(gwKey);
      if ((await this.writeGatewayStatus(gw, failed, ready.get(gwKey) ?? 0)) === 'propagating') propagating = true;
    }
    if (failed(this.errors)) this.schedule(2_000); // retry failed applies
    // Discovery reaching the node agents is no source change: look again until it has.
    else if (propagating) this.schedule(this.options.propagationRecheckMs ?? 250);
    await this.deleteOrphans(wanted);
    await this.writeClassStatus(params.ok ? undefined : params.reason);
  }

  private reportParameters(reason: string | undefined): void {
    if (reason !== undefined && reason !== this.parametersError) {
      const err = new WeftError('ERR_WEFT_CONTROL_WAYPOINT_PARAMETERS', { gatewayClass: WAYPOINT_CLASS, reason });
      this.log.error({ code: err.code, hint: err.hint }, err.message);
    }
    this.parametersError = reason;
  }

  /** Writes the Gateway's status; says 'propagating' when only node agents' knowledge is missing. */
  private async writeGatewayStatus(gw: GatewayObject, error: string | undefined, readyCount: number): Promise<'propagating' | undefined> {
    const { source } = this.options;
    const namespace = gw.metadata.namespace ?? 'default';
    const name = gw.metadata.name;
    const service = asKind(source.get({ kind: 'Service', namespace, name }), 'Service');
    const applied = GENERATED_KINDS.every((kind) => source.get({ kind, namespace, name }) !== undefined);
    const deploy = asKind(source.get({ kind: 'Deployment', namespace, name }), 'Deployment');
    const replicas = { wanted: deploy?.spec.replicas ?? 1, ready: readyCount };
    const notPropagated = replicas.ready > 0 ? this.options.propagation?.waypointPropagation(namespace, name) : undefined;
    const status = waypointGatewayStatus(gw, {
      ...(service === undefined ? {} : { service }),
      applied,
      ...(error === undefined ? {} : { error }),
      replicas,
      ...(notPropagated === undefined ? {} : { notPropagated }),
    });
    await this.writeStatusIfChanged(refOf(gw), gw.status, status);
    return notPropagated !== undefined && applied && error === undefined ? 'propagating' : undefined;
  }

  private async writeClassStatus(invalidParameters: string | undefined): Promise<void> {
    const gc = asKind(this.options.source.get({ kind: 'GatewayClass', name: WAYPOINT_CLASS }), 'GatewayClass');
    if (gc === undefined) return;
    await this.writeStatusIfChanged(refOf(gc), gc.status, gatewayClassStatus(gc, undefined, invalidParameters));
  }

  private async writeStatusIfChanged(ref: ObjectRef, current: unknown, next: unknown): Promise<void> {
    if (sameJson(current, next)) return;
    try {
      await this.options.source.writeStatus(ref, next);
    } catch (err) {
      this.log.warn({ ref, err: (err as Error).message }, 'writing %s status failed', ref.kind);
    }
  }

  private async deleteOrphans(wanted: Set<string>): Promise<void> {
    for (const kind of GENERATED_KINDS) {
      for (const o of this.options.source.list(kind)) {
        const labels = o.metadata.labels ?? {};
        if (labels[MANAGED_BY_LABEL] !== WAYPOINT_FIELD_MANAGER || labels[GATEWAY_LABEL] === undefined) continue;
        if (wanted.has(keyOf(o))) continue;
        try {
          await this.options.source.delete(refOf(o));
          this.log.info({ kind, name: o.metadata.name, namespace: o.metadata.namespace }, 'deleted waypoint %s of a removed Gateway', kind);
        } catch (err) {
          this.log.warn({ kind, name: o.metadata.name, err: (err as Error).message }, 'deleting a waypoint object failed; will retry');
          this.schedule(2_000);
        }
      }
    }
  }
}

/** Per `<namespace>/<gateway>`: its pods (the Gateway label, as the Deployment selects them) Ready with an IP. */
function readyReplicas(source: ClusterSource): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of source.list('Pod')) {
    const gateway = o.metadata.labels?.[GATEWAY_LABEL];
    if (gateway === undefined) continue;
    const p = asKind(o, 'Pod');
    if (p === undefined || (p.status?.podIP ?? '') === '') continue;
    if (!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const key = `${p.metadata.namespace ?? ''}/${gateway}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

function keyOf(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function failed(errors: Map<string, string>): boolean {
  return errors.size > 0;
}
