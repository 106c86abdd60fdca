import { silentLogger, type Logger } from '../lib/telemetry/log.js';
import type { LeaderElection } from './leader.js';
import { ReconcileLoop } from './reconcile-loop.js';
import type { ClusterSource, InvalidInfo, ObjectKind, SourceChange } from './sources/source.js';

/** What every leader-gated controller is given (its options interface extends this). */
export interface LeaderGatedOptions {
  readonly source: Pick<ClusterSource, 'on' | 'off'>;
  readonly leader: LeaderElection;
  readonly logger?: Logger;
  /** Quiet time after a change before the pass (each controller has its default). */
  readonly debounceMs?: number;
}

/** What each controller says about itself. */
export interface LeaderGatedSpec {
  /** The `component` of its log lines. */
  readonly component: string;
  /** Kinds whose changes schedule a pass. */
  readonly watches: ReadonlySet<ObjectKind>;
  /** Kinds whose objects failing validation schedule a pass (controllers that report on them). */
  readonly watchesInvalid?: ReadonlySet<ObjectKind>;
  /** Quiet time after a change before the pass, unless the options say otherwise. */
  readonly debounceMs: number;
  /** A pass this often besides the changes, to repair what someone else edited; none when absent. */
  readonly resyncMs?: number;
  /** Logged when a pass throws, e.g. "status pass failed". */
  readonly failureMessage: string;
}

/**
 * The wiring every leader-only controller of the control plane shares (status, waypoints, trust-root
 * publisher): a ReconcileLoop fed by the source's changes to the watched kinds and by winning the lease, a
 * full pass on leadership, passes that run only while leading and never after stop. Subclasses write only
 * `pass()` and call `schedule()` for their own retries.
 */
export abstract class LeaderGatedController {
  protected readonly log: Logger;
  private readonly loop: ReconcileLoop;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly onChange = (changes: readonly SourceChange[]): void => {
    if (changes.some((c) => this.spec.watches.has(c.object.kind))) this.schedule();
  };
  private readonly onInvalid = (info: InvalidInfo): void => {
    if (info.ref.kind !== undefined && this.spec.watchesInvalid?.has(info.ref.kind)) this.schedule();
  };
  private readonly onLeader = (): void => this.schedule(0);

  protected constructor(
    private readonly gate: LeaderGatedOptions,
    private readonly spec: LeaderGatedSpec,
  ) {
    this.log = (gate.logger ?? silentLogger).child({ component: spec.component });
    this.loop = new ReconcileLoop(() => this.reconcile(), {
      debounceMs: gate.debounceMs ?? spec.debounceMs,
      onError: (err) => this.log.error({ err }, spec.failureMessage),
    });
  }

  start(): void {
    this.gate.source.on('change', this.onChange);
    if (this.spec.watchesInvalid !== undefined) this.gate.source.on('invalid', this.onInvalid);
    this.gate.leader.on('leader', this.onLeader);
    if (this.spec.resyncMs !== undefined) {
      this.resyncTimer = setInterval(() => this.schedule(0), this.spec.resyncMs);
      this.resyncTimer.unref();
    }
    if (this.gate.leader.isLeader) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.gate.source.off('change', this.onChange);
    if (this.spec.watchesInvalid !== undefined) this.gate.source.off('invalid', this.onInvalid);
    this.gate.leader.off('leader', this.onLeader);
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    await this.loop.stop();
  }

  /** Resolves once no pass is pending or running (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** One pass now, if this replica leads and the controller is not stopped; idempotent. */
  async reconcile(): Promise<void> {
    if (!this.gate.leader.isLeader || this.loop.isStopped) return;
    await this.pass();
  }

  protected schedule(delayMs?: number): void {
    this.loop.schedule(delayMs);
  }

  /** The controller's work: compare what should be with what is, and write the difference. */
  protected abstract pass(): Promise<void>;
}
