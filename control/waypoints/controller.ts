import { ReconcileLoop } from '../reconcile-loop.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import type { LeaderElection } from '../leader.js';
import { asKind, listOf, refOf, type GatewayObject } from '../sources/schemas.js';
import type { ClusterSource, KubeObject, ObjectKind, ObjectRef, SourceChange } from '../sources/source.js';
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

export interface WaypointControllerOptions extends WaypointTemplateOptions {
  readonly source: ClusterSource;
  readonly leader: LeaderElection;
  readonly logger?: Logger;
  /** Quiet time after a change before reconciling (default 50 ms). */
  readonly debounceMs?: number;
}

const GENERATED_KINDS: readonly ObjectKind[] = ['ServiceAccount', 'Deployment', 'Service'];
const WATCHED_KINDS: ReadonlySet<ObjectKind> = new Set(['Gateway', 'GatewayClass', ...GENERATED_KINDS]);

/**
 * For every Gateway of class `weft-waypoint`: apply its ServiceAccount, Deployment and Service (owned by
 * the Gateway, server-side apply with field manager `weft-waypoint-controller`), write the Gateway's and the
 * GatewayClass's status, and delete what it generated for Gateways that are gone. Only the leader acts;
 * a replica that becomes leader reconciles everything at once.
 */
export class WaypointController {
  private readonly log: Logger;
  private readonly loop: ReconcileLoop;
  private readonly errors = new Map<string, string>(); // gateway key → last apply error
  private readonly onChange = (changes: readonly SourceChange[]): void => {
    if (changes.some((c) => WATCHED_KINDS.has(c.object.kind))) this.schedule();
  };
  private readonly onLeader = (): void => this.schedule(0);

  constructor(private readonly options: WaypointControllerOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'waypoints' });
    this.loop = new ReconcileLoop(() => this.reconcile(), {
      debounceMs: options.debounceMs ?? 50,
      onError: (err) => this.log.error({ err }, 'waypoint reconcile failed'),
    });
  }

  start(): void {
    this.options.source.on('change', this.onChange);
    this.options.leader.on('leader', this.onLeader);
    if (this.options.leader.isLeader) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.options.source.off('change', this.onChange);
    this.options.leader.off('leader', this.onLeader);
    await this.loop.stop();
  }

  /** Resolves once no reconcile is pending or running (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private schedule(delayMs?: number): void {
    this.loop.schedule(delayMs);
  }

  /** One full pass; exported behaviour is idempotent, so a pass with nothing to do writes nothing. */
  async reconcile(): Promise<void> {
    if (!this.options.leader.isLeader || this.loop.isStopped) return;
    const { source } = this.options;
    const gateways = listOf(source, 'Gateway').filter((g) => g.spec.gatewayClassName === WAYPOINT_CLASS);
    const wanted = new Set<string>();
    for (const gw of gateways) {
      const gwKey = `${gw.metadata.namespace ?? ''}/${gw.metadata.name}`;
      const objects = waypointObjects(gw, this.options);
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
      await this.writeGatewayStatus(gw, failed);
    }
    if (failed(this.errors)) this.schedule(2_000); // retry failed applies
    await this.deleteOrphans(wanted);
    await this.writeClassStatus();
  }

  private async writeGatewayStatus(gw: GatewayObject, error: string | undefined): Promise<void> {
    const service = asKind(this.options.source.get({ kind: 'Service', namespace: gw.metadata.namespace, name: gw.metadata.name }), 'Service');
    const applied = GENERATED_KINDS.every((kind) => this.options.source.get({ kind, namespace: gw.metadata.namespace, name: gw.metadata.name }) !== undefined);
    const status = waypointGatewayStatus(gw, { ...(service === undefined ? {} : { service }), applied, ...(error === undefined ? {} : { error }) });
    await this.writeStatusIfChanged(refOf(gw), gw.status, status);
  }

  private async writeClassStatus(): Promise<void> {
    const gc = asKind(this.options.source.get({ kind: 'GatewayClass', name: WAYPOINT_CLASS }), 'GatewayClass');
    if (gc === undefined) return;
    await this.writeStatusIfChanged(refOf(gc), gc.status, gatewayClassStatus(gc));
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

function keyOf(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function failed(errors: Map<string, string>): boolean {
  return errors.size > 0;
}
