import { EventEmitter } from 'node:events';
import { jitter } from '../lib/backoff.js';
import { WeftError } from '../lib/errors/index.js';
import type { Logger } from '../lib/telemetry/log.js';
import { silentLogger } from '../lib/telemetry/log.js';
import type { KubeApi, LeaseObject, LeaseSpec } from './sources/kube-api.js';

/**
 * One writer at a time among control-plane replicas (issue 6, "Lease-based leader election among
 * replicas; every replica serves gRPC"). Only the leader runs the waypoint controller and writes status.
 * `leader` / `follower` events announce changes; `isLeader` is the current state.
 */
export interface LeaderElection extends EventEmitter {
  readonly isLeader: boolean;
  readonly identity: string;
  start(): void;
  /** Stops campaigning; a leader releases the Lease so another replica takes over at once. */
  stop(options?: { release?: boolean }): Promise<void>;
  on(event: 'leader' | 'follower', listener: () => void): this;
}

export const DEFAULT_LEASE_NAME = 'weft-control';
export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

export interface LeaseElectorOptions {
  readonly api: Pick<KubeApi, 'getLease' | 'createLease' | 'updateLease'>;
  readonly namespace: string;
  readonly name?: string;
  /** Unique per replica, e.g. the pod name plus a random suffix. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly logger?: Logger;
}

/**
 * client-go's algorithm on a coordination.k8s.io/v1 Lease: every retry period, try to acquire or renew
 * with an optimistic-concurrency update (a stale resourceVersion loses). Another holder's lease counts as
 * expired when its record has not changed for a lease duration as observed on THIS replica's clock (no
 * cross-node clock comparison). A leader that cannot renew within the renew deadline steps down, which is
 * before any other replica may consider its lease expired (renew deadline < lease duration).
 */
export class LeaseLeaderElector extends EventEmitter implements LeaderElection {
  readonly identity: string;
  private readonly log: Logger;
  private readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leader = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** Fires at lastRenewAt + renewDeadline: steps down even while a renew request hangs. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastRenewAt = 0;
  /** The last lease record seen (holder + renewTime) and when this replica first saw it. */
  private observedRecord = '';
  private observedAt = 0;

  constructor(private readonly options: LeaseElectorOptions) {
    super();
    this.identity = options.identity;
    this.name = options.name ?? DEFAULT_LEASE_NAME;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
    if (!(this.renewDeadlineMs < this.leaseDurationMs && this.retryPeriodMs < this.renewDeadlineMs)) {
      throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'leader election needs retryPeriod < renewDeadline < leaseDuration' });
    }
    this.log = (options.logger ?? silentLogger).child({ component: 'leader', identity: this.identity });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    await this.inFlight;
    if (this.leader && options.release !== false) await this.release();
    this.setLeader(false, 'stopped');
  }

  private tick(): void {
    if (!this.running) return;
    this.inFlight = this.tryAcquireOrRenew()
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'lease %s/%s: request failed', this.options.namespace, this.name))
      .finally(() => {
        this.inFlight = undefined;
        this.checkDeadline();
        if (this.running) this.timer = setTimeout(() => this.tick(), jitter(this.retryPeriodMs, 0.2));
      });
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    const lease = await this.options.api.getLease(this.options.namespace, this.name);
    if (!this.running) return;
    const mine: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: microTime(new Date(now)),
      renewTime: microTime(new Date(now)),
      leaseTransitions: 0,
    };
    if (lease === undefined) {
      const res = await this.options.api.createLease(this.options.namespace, this.name, mine);
      if (res.ok) this.renewed(now, 'created the lease');
      return;
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}\u0000${spec.renewTime ?? ''}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = now;
    }
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== this.identity;
    const otherDurationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    if (heldByOther && this.observedAt + otherDurationMs > now) {
      if (this.leader) this.setLeader(false, `lease held by ${holder}`);
      return;
    }
    const next: LeaseObject = {
      metadata: { ...lease.metadata },
      spec: {
        ...mine,
        acquireTime: holder === this.identity ? (spec.acquireTime ?? mine.acquireTime) : mine.acquireTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === this.identity ? 0 : 1),
      },
    };
    const res = await this.options.api.updateLease(next);
    if (res.ok) this.renewed(now, heldByOther ? `took over from ${holder} (lease expired)` : 'acquired the lease');
  }

  private renewed(at: number, why: string): void {
    // A renewal whose request took longer than the deadline is too old to lead on.
    if (Date.now() - at >= this.renewDeadlineMs) return;
    this.lastRenewAt = at;
    this.observedRecord = '';
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), at + this.renewDeadlineMs - Date.now());
    if (!this.leader) this.setLeader(true, why);
  }

  private checkDeadline(): void {
    if (!this.leader) return;
    const left = this.lastRenewAt + this.renewDeadlineMs - Date.now();
    if (left > 0) {
      if (!this.running) return;
      // Timers run on the loop's cached monotonic clock and can fire a millisecond before Date.now()
      // says the deadline passed; without re-arming, a leader whose renew hangs would lead on until that
      // request gave up, past the lease another replica then takes.
      if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
      this.deadlineTimer = setTimeout(() => this.checkDeadline(), left);
      return;
    }
    const err = new WeftError('ERR_WEFT_LEADER_LOST', { lease: `${this.options.namespace}/${this.name}`, reason: `no renewal for ${this.renewDeadlineMs} ms` });
    this.log.warn({ code: err.code }, err.message);
    this.setLeader(false, 'renew deadline passed');
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.options.api.getLease(this.options.namespace, this.name);
      if (lease?.spec?.holderIdentity !== this.identity) return;
      await this.options.api.updateLease({
        metadata: { ...lease.metadata },
        spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not release the lease; it expires on its own');
    }
  }

  private setLeader(leader: boolean, why: string): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.log.info({ lease: `${this.options.namespace}/${this.name}`, why }, leader ? 'became leader' : 'no longer leader');
    this.emit(leader ? 'leader' : 'follower');
  }
}

/** Directory mode: one control plane per directory, always the leader. */
export class AlwaysLeader extends EventEmitter implements LeaderElection {
  readonly isLeader = true;
  constructor(readonly identity = 'directory') {
    super();
  }

  start(): void {
    queueMicrotask(() => this.emit('leader'));
  }

  async stop(): Promise<void> {
    await Promise.resolve();
  }
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
