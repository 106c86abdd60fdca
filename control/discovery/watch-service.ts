import { randomBytes } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WeftError, isWeftError } from '../../lib/errors/index.js';
import { RESOURCE_KINDS, type ResourceKind, type Service, type TrustBundleData, type Workload } from '../../lib/model/index.js';
import { silentLogger, type Logger } from '../../lib/telemetry/log.js';
import { resourceToProto } from '../../lib/control-client/convert.js';
import type { Resource } from '../../api/gen/weft/v1/resources.js';
import type { DiscoveryServiceServer, WatchRequest, WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import type { SourceChange } from '../sources/source.js';
import { toGrpcError } from '../identity/certify-service.js';
import type { ChangeSet, CompiledKind, Compiler } from './compile.js';
import { inScope, scopeDependsOnServices, type ScopeContext, type WatchScope } from './watch-scope.js';
import { authorizeWatch, type WatchAuthorizeOptions } from './watch-authorize.js';

export { DiscoveryServiceDefinition } from './watch-encoding.js';

export type { WatchScope } from './watch-scope.js';

// DiscoveryService.Watch (issue 6): every watcher gets a snapshot per kind, then deltas scoped to it.
//
// Scoping (what a watcher receives) is watch-scope.ts's.
//
// Versions are `<epoch>.<seq>`: `epoch` is this process's start, `seq` counts flushes. A watcher that
// reconnects with versions of this epoch, not older than the pruned history, gets only the keys changed
// since (or a snapshot when its scope itself moved); any other version gets a snapshot.
//
// Pushes are debounced (source changes collected for `debounceMs`, default 20, ≤ 50) and coalesced into
// one compile and one message per kind per watcher. A watcher whose stream buffer is full is skipped
// and, once it drains, sent a fresh snapshot: memory per watcher is bounded by one flush.

const MAX_DEBOUNCE_MS = 50;
const SNAPSHOT_CHUNK = 1000;
/** Removed keys remembered for resuming; older resumes get a snapshot. */
const MAX_TOMBSTONES = 50_000;

export interface WatchServiceOptions extends WatchAuthorizeOptions {
  compiler: Compiler;
  debounceMs?: number;
  logger?: Logger;
  registry?: Registry;
}

type Value = object;

interface Watcher {
  readonly id: number;
  readonly call: ServerWritableStream<WatchRequest, WatchResponse>;
  readonly scope: WatchScope;
  readonly kinds: ReadonlySet<ResourceKind>;
  /**
   * What this watcher holds, per kind: key → the compiled value object sent last. Only waypoints keep
   * it: a node agent's scope is everything (but route tables), so its delta is exactly the changed keys
   * and 100 node agents do not cost 100 copies of the key space.
   */
  readonly sent: Map<ResourceKind, Map<string, Value>> | undefined;
  congested: boolean;
}

export class WatchService {
  private readonly log: Logger;
  private readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  /** Per kind: key → seq of its last change (removals included), for resuming. */
  private readonly changedAt = new Map<ResourceKind, Map<string, number>>(RESOURCE_KINDS.map((k) => [k, new Map()]));
  /** Oldest seq a resume can start from (raised when change history is pruned). */
  private floor = 0;
  /** Last seq at which Services changed: a waypoint's workload/policy scope depends on them. */
  private servicesChangedAt = 0;
  private trustBundle: TrustBundleData | undefined;
  private trustBundleDirty = false;
  private pending: SourceChange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly watchers = new Set<Watcher>();
  private nextId = 1;
  private readonly debounceMs: number;
  /** Snapshot chunks of the current version by scope and kind, shared by watchers connecting together. */
  private snapshotCache = new Map<string, WatchResponse[]>();
  private snapshotCacheVersion = '';
  private readonly onChange = (changes: readonly SourceChange[]): void => {
    this.pending.push(...changes);
    this.schedule();
  };
  private readonly metrics:
    | { watchers: Gauge; pushes: Counter<'kind'>; snapshots: Counter<'reason'>; flushSeconds: Histogram }
    | undefined;
  /** Called after each flush with the seq (benchmarks and tests observe push timing through it). */
  onFlush: ((seq: number, changes: ChangeSet) => void) | undefined;

  constructor(private readonly options: WatchServiceOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'control.discovery' });
    this.debounceMs = Math.min(MAX_DEBOUNCE_MS, Math.max(0, options.debounceMs ?? 20));
    const r = options.registry;
    if (r) {
      this.metrics = {
        watchers: new Gauge({ name: 'weft_control_watchers', help: 'Open DiscoveryService.Watch streams', registers: [r] }),
        pushes: new Counter({ name: 'weft_control_push_total', help: 'Delta messages sent to watchers, by kind', labelNames: ['kind'], registers: [r] }),
        snapshots: new Counter({
          name: 'weft_control_snapshot_total',
          help: 'Snapshots sent to watchers, by reason (initial, resume, slow)',
          labelNames: ['reason'],
          registers: [r],
        }),
        flushSeconds: new Histogram({
          name: 'weft_control_flush_duration_seconds',
          help: 'Time to compile a batch of source changes and fan it out',
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
          registers: [r],
        }),
      };
    }
  }

  get version(): string {
    return `${this.epoch}.${this.seq}`;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Compiles the source's current state and starts following its changes (call after source.start()). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.record(this.options.compiler.rebuild());
    this.options.source.on('change', this.onChange);
  }

  /** Replaces the trust bundle sent to every watcher (CA loaded or rotated). */
  setTrustBundle(tb: TrustBundleData): void {
    this.trustBundle = tb;
    this.trustBundleDirty = true;
    if (this.started) this.schedule();
  }

  close(): void {
    this.options.source.off('change', this.onChange);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
    this.metrics?.watchers.set(0);
  }

  /**
   * Why node agents cannot yet route through the waypoint Service `namespace/name` (undefined when they
   * can): discovery must hold a ready endpoint of it, have nothing left to push, and every node that runs a
   * captured pod of the namespace must have its agent watching with that state sent. A write to the
   * stream counts as known: the agent applies a message as soon as it arrives.
   */
  waypointPropagation(namespace: string, name: string): string | undefined {
    const svc = this.currentValue('Service', `${namespace}/${name}`) as Service | undefined;
    if (svc === undefined) return `discovery has no Service ${namespace}/${name} yet`;
    if (!svc.endpoints.some((e) => e.ready)) return `discovery has no ready endpoint of Service ${namespace}/${name} yet`;
    if (this.pending.length > 0 || this.timer !== undefined || this.trustBundleDirty) return 'a discovery push to the node agents is pending';
    const nodes = new Set<string>();
    for (const e of this.options.compiler.all('Workload').values()) {
      const w = e.value as Workload;
      if (w.namespace === namespace && w.captured && w.node !== '') nodes.add(w.node);
    }
    const watching = new Set<string>();
    for (const w of this.watchers) if (w.scope.type === 'node' && !w.congested && w.kinds.has('Service')) watching.add(w.scope.node);
    const missing = [...nodes].filter((n) => !watching.has(n)).sort();
    if (missing.length > 0) return `the node agent of node ${missing.join(', node ')} is not watching discovery (is it running?)`;
    return undefined;
  }

  implementation(): DiscoveryServiceServer {
    return { watch: (call: ServerWritableStream<WatchRequest, WatchResponse>) => void this.watch(call) };
  }

  // ---- flushing ----------------------------------------------------------------------------------

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
  }

  /** Compiles pending source changes and sends each watcher its deltas. */
  flush(): void {
    const started = process.hrtime.bigint();
    const batch = this.pending;
    this.pending = [];
    const changes = batch.length > 0 ? this.options.compiler.update(batch) : new Map<CompiledKind, Set<string>>();
    const tbChanged = this.trustBundleDirty;
    this.trustBundleDirty = false;
    let any = tbChanged;
    for (const keys of changes.values()) if (keys.size > 0) any = true;
    if (!any) return;
    this.record(changes, tbChanged);
    const ctx: ScopeContext = {};
    for (const w of this.watchers) this.pushTo(w, changes, tbChanged, ctx);
    this.metrics?.flushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.onFlush?.(this.seq, changes);
  }

  private record(changes: ChangeSet, tbChanged = false): void {
    this.seq++;
    // The cached chunks (proto objects and their encoded bytes, a copy of the whole state) belong to the
    // old version; keeping them until the next snapshot request held them for good in a quiet cluster.
    this.snapshotCache = new Map();
    for (const [kind, keys] of changes) {
      const m = this.changedAt.get(kind)!;
      for (const k of keys) m.set(k, this.seq);
      if (kind === 'Service' && keys.size > 0) this.servicesChangedAt = this.seq;
    }
    if (tbChanged) this.changedAt.get('TrustBundle')!.set('default', this.seq);
    // Bound the history: drop keys that no longer exist (tombstones), oldest first, raising the floor.
    for (const [kind, m] of this.changedAt) {
      if (m.size <= this.current(kind).size + MAX_TOMBSTONES) continue;
      const cur = this.current(kind);
      const dead = [...m].filter(([k]) => !cur.has(k)).sort((a, b) => a[1] - b[1]);
      for (const [k, s] of dead.slice(0, dead.length - MAX_TOMBSTONES / 2)) {
        m.delete(k);
        this.floor = Math.max(this.floor, s);
      }
    }
  }

  /** The compiled values of a kind, by key. */
  private current(kind: ResourceKind): Map<string, Value> {
    if (kind === 'TrustBundle') return new Map<string, Value>(this.trustBundle ? [['default', this.trustBundle]] : []);
    const entries = this.options.compiler.all(kind);
    return new Map([...entries].map(([k, e]) => [k, e.value as Value]));
  }

  private currentValue(kind: ResourceKind, key: string): Value | undefined {
    if (kind === 'TrustBundle') return key === 'default' ? this.trustBundle : undefined;
    return this.options.compiler.all(kind).get(key)?.value as Value | undefined;
  }

  // ---- sending -----------------------------------------------------------------------------------

  /**
   * Converted once per flush or snapshot and shared by every watcher in it; not kept beyond (a cache that
   * lived as long as the values held a second copy of the whole state in wire form).
   */
  private proto(kind: ResourceKind, value: Value, ctx: ScopeContext): Resource {
    const cache = (ctx.protos ??= new Map<Value, Resource>());
    let p = cache.get(value);
    if (!p) cache.set(value, (p = resourceToProto(kind, value as never)));
    return p;
  }

  private write(w: Watcher, msg: WatchResponse): void {
    if (w.call.destroyed || w.call.writableEnded) return;
    w.call.write(msg);
    this.metrics?.pushes.inc({ kind: msg.kind });
  }

  private pushTo(w: Watcher, changes: ChangeSet, tbChanged: boolean, ctx: ScopeContext): void {
    if (w.congested) return; // a fresh snapshot follows on 'drain'
    if (w.call.writableNeedDrain) {
      w.congested = true;
      this.log.debug({ watcher: w.id }, 'watcher is slow; it gets a snapshot once its stream drains');
      w.call.once('drain', () => {
        w.congested = false;
        if (!this.watchers.has(w)) return;
        this.metrics?.snapshots.inc({ reason: 'slow' });
        const fresh: ScopeContext = {};
        for (const kind of w.kinds) this.sendSnapshot(w, kind, fresh);
      });
      return;
    }
    for (const kind of w.kinds) {
      const keys = kind === 'TrustBundle' ? (tbChanged ? ['default'] : []) : changes.get(kind);
      const rescope = w.sent !== undefined && scopeDependsOnServices(w.scope, kind) && (changes.get('Service')?.size ?? 0) > 0;
      const candidates: Iterable<string> = rescope ? new Set([...this.current(kind).keys(), ...w.sent.get(kind)!.keys()]) : (keys ?? []);
      this.sendDelta(w, kind, candidates, ctx, false);
    }
  }

  /** Sends upserts/removes for candidate keys whose in-scope value differs from what `w` holds. */
  private sendDelta(w: Watcher, kind: ResourceKind, candidates: Iterable<string>, ctx: ScopeContext, snapshotDone: boolean): void {
    const sent = w.sent?.get(kind);
    const upserts: Resource[] = [];
    const upsertKeys: string[] = [];
    const removes: string[] = [];
    for (const key of candidates) {
      const value = this.currentValue(kind, key);
      if (value !== undefined && inScope(w.scope, kind, value, ctx, this.options.compiler.services)) {
        if (!sent || sent.get(key) !== value) {
          upserts.push(this.proto(kind, value, ctx));
          upsertKeys.push(key);
          sent?.set(key, value);
        }
      } else if (sent ? sent.delete(key) || snapshotDone : value === undefined) {
        // Untracked (node) watchers: a key that no longer exists is removed; one merely out of scope
        // (a route table) was never sent.
        removes.push(key);
      }
    }
    if (upserts.length === 0 && removes.length === 0 && !snapshotDone) return;
    const shareKey = snapshotDone ? undefined : `${kind}|${upsertKeys.join(',')}|${removes.join(',')}`;
    const shared = shareKey === undefined ? undefined : ctx.messages?.get(shareKey);
    if (shared) {
      this.write(w, shared);
      return;
    }
    for (let i = 0; i < Math.max(1, upserts.length); i += SNAPSHOT_CHUNK) {
      const last = i + SNAPSHOT_CHUNK >= upserts.length;
      const msg: WatchResponse = {
        kind,
        version: this.version,
        upserts: upserts.slice(i, i + SNAPSHOT_CHUNK),
        removes: last ? removes : [],
        snapshotDone: snapshotDone && last,
        replace: false,
      };
      // Only single-message deltas are shared (the common case; chunked ones are rare and large).
      if (shareKey !== undefined && upserts.length <= SNAPSHOT_CHUNK) (ctx.messages ??= new Map()).set(shareKey, msg);
      this.write(w, msg);
    }
  }

  /** Replaces everything of `kind` the watcher holds with its current scope, in chunks. */
  private sendSnapshot(w: Watcher, kind: ResourceKind, ctx: ScopeContext): void {
    if (this.snapshotCacheVersion !== this.version) {
      this.snapshotCache = new Map();
      this.snapshotCacheVersion = this.version;
    }
    const cacheKey = `${w.scope.type === 'node' ? 'node' : `wp:${w.scope.namespace}/${w.scope.name}`}|${kind}`;
    let chunks = this.snapshotCache.get(cacheKey);
    const sent = w.sent?.get(kind);
    sent?.clear();
    if (!chunks || sent) {
      const upserts: Resource[] = [];
      for (const [key, value] of this.current(kind)) {
        if (!inScope(w.scope, kind, value, ctx, this.options.compiler.services)) continue;
        sent?.set(key, value);
        if (!chunks) upserts.push(this.proto(kind, value, ctx));
      }
      if (chunks) {
        for (const c of chunks) this.write(w, c);
        return;
      }
      chunks = [];
      for (let i = 0; i < Math.max(1, upserts.length); i += SNAPSHOT_CHUNK) {
        chunks.push({
          kind,
          version: this.version,
          upserts: upserts.slice(i, i + SNAPSHOT_CHUNK),
          removes: [],
          snapshotDone: i + SNAPSHOT_CHUNK >= upserts.length,
          replace: i === 0,
        });
      }
      this.snapshotCache.set(cacheKey, chunks);
    }
    for (const c of chunks) this.write(w, c);
  }

  /** Resumes `kind` from a version the watcher holds, or returns false when it needs a snapshot. */
  private tryResume(w: Watcher, kind: ResourceKind, version: string | undefined, ctx: ScopeContext): boolean {
    if (!version) return false;
    const dot = version.lastIndexOf('.');
    const epoch = version.slice(0, dot);
    const seq = Number(version.slice(dot + 1));
    if (epoch !== this.epoch || !Number.isInteger(seq) || seq > this.seq || seq < this.floor) return false;
    if (scopeDependsOnServices(w.scope, kind) && this.servicesChangedAt > seq) return false;
    const changed: string[] = [];
    for (const [key, at] of this.changedAt.get(kind)!) if (at > seq) changed.push(key);
    // The watcher holds the scope as of `seq`: everything in scope now that did not change since.
    const sent = w.sent?.get(kind);
    if (sent) {
      const changedSet = new Set(changed);
      for (const [key, value] of this.current(kind)) if (!changedSet.has(key) && inScope(w.scope, kind, value, ctx, this.options.compiler.services)) sent.set(key, value);
    }
    this.sendDelta(w, kind, changed, ctx, true);
    return true;
  }

  // ---- the RPC -----------------------------------------------------------------------------------

  private async watch(call: ServerWritableStream<WatchRequest, WatchResponse>): Promise<void> {
    let scope: WatchScope;
    try {
      if (!this.started) throw new WeftError('ERR_WEFT_CONTROL_NOT_READY', { reason: 'the cluster-state source has not synced' });
      scope = await authorizeWatch(call, this.options);
    } catch (err) {
      const e = toGrpcError(err);
      this.log.warn({ code: isWeftError(err) ? err.code : undefined, reason: e.details }, 'watch refused');
      call.emit('error', e);
      return;
    }
    if (call.cancelled || call.destroyed) return;
    const kinds = new Set<ResourceKind>(call.request.kinds.length > 0 ? (call.request.kinds as ResourceKind[]) : RESOURCE_KINDS);
    const w: Watcher = { id: this.nextId++, call, scope, kinds, sent: scope.type === 'waypoint' ? new Map([...kinds].map((k) => [k, new Map<string, Value>()])) : undefined, congested: false };
    this.watchers.add(w);
    this.metrics?.watchers.set(this.watchers.size);
    const done = (): void => {
      if (this.watchers.delete(w)) this.metrics?.watchers.set(this.watchers.size);
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('error', done);
    const ctx: ScopeContext = {};
    let resumed = 0;
    for (const kind of kinds) {
      if (this.tryResume(w, kind, call.request.initialVersions[kind], ctx)) resumed++;
      else this.sendSnapshot(w, kind, ctx);
    }
    this.metrics?.snapshots.inc({ reason: resumed === kinds.size ? 'resume' : 'initial' });
    this.log.debug({ watcher: w.id, scope, resumed }, 'watcher connected');
  }
}

