import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Metadata, status as GrpcStatus, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Backoff } from '../backoff.js';
import { WeftError, isWeftError } from '../errors/index.js';
import { RESOURCE_KINDS, type Delta, type ResourceKind, type StateStore } from '../model/index.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { DiscoveryServiceClient, type WatchResponse } from '../../api/gen/weft/v1/discovery.js';
import { controlChannelOptions, controlCredentials, type ControlConnectionOptions } from './channel.js';
import { isResourceKind, resourceFromProto } from './convert.js';

// A data plane's DiscoveryService.Watch client: the single writer of its StateStore (STYLE.md #8).
// - Resumes by the store's per-kind versions after a reconnect, so an unchanged control plane sends
//   only what changed (or a snapshot if it cannot resume).
// - Snapshots (the initial one, and the fresh one a slow watcher gets) arrive in chunks; a kind's
//   chunks are applied to the store together once `snapshot_done` arrives, so readers never see half.
// - Reconnects with jittered exponential backoff; reset once a stream has synced.
// - Never clears the store when the control plane goes away: the data plane keeps serving its last
//   known state (ARCHITECTURE.md).
// - Deadlines: a stream that brings no snapshot within `syncTimeoutMs` is abandoned and retried; every
//   stream ends after `maxStreamAgeMs` and resumes (cheap), which also spreads load across replicas.

export interface DiscoveryClientOptions extends ControlConnectionOptions {
  store: StateStore;
  /** Node agent: its node. */
  node?: string;
  /** Waypoint: its Gateway `namespace/name`. */
  waypoint?: string;
  tokenFile?: string;
  kinds?: readonly ResourceKind[];
  logger?: Logger;
  backoff?: { initialMs: number; maxMs: number };
  syncTimeoutMs?: number;
  maxStreamAgeMs?: number;
  random?: () => number;
}

export interface DiscoveryClientEvents {
  connected: [];
  synced: [];
  disconnected: [err: WeftError];
}

export class DiscoveryClient extends EventEmitter<DiscoveryClientEvents> {
  private readonly client: DiscoveryServiceClient;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly kinds: readonly ResourceKind[];
  private stream: ClientReadableStream<WatchResponse> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private everSynced = false;
  private syncWaiters: (() => void)[] = [];
  /** Streams opened so far (tests and the admin page read it). */
  connects = 0;

  constructor(private readonly options: DiscoveryClientOptions) {
    super();
    if (!options.node === !options.waypoint) throw new WeftError('ERR_WEFT_CONFIG_INVALID', { reason: 'a discovery client watches for exactly one of node or waypoint' });
    this.client = new DiscoveryServiceClient(options.address, controlCredentials(options), controlChannelOptions(options));
    this.log = (options.logger ?? silentLogger).child({ component: 'control-client.discovery' });
    this.backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000, random: options.random });
    this.kinds = options.kinds ?? RESOURCE_KINDS;
  }

  start(): void {
    this.connect().catch((err: unknown) => this.log.error({ err }, 'discovery connect failed'));
  }

  /** Resolves once every watched kind has had its first snapshot (or at once if it already has). */
  synced(): Promise<void> {
    if (this.everSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.syncTimer);
    this.stream?.cancel();
    this.stream = undefined;
    this.client.close();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const md = new Metadata();
    if (this.options.tokenFile) {
      try {
        md.set('authorization', `Bearer ${(await readFile(this.options.tokenFile, 'utf8')).trim()}`);
      } catch (err) {
        this.fail(new WeftError('ERR_WEFT_CONTROL_UNAVAILABLE', { address: this.options.address, reason: `cannot read token file: ${(err as Error).message}` }, { cause: err }));
        return;
      }
    }
    if (this.closed) return;
    const initialVersions: Record<string, string> = {};
    for (const k of this.kinds) {
      const v = this.options.store.version(k);
      if (v !== undefined) initialVersions[k] = v;
    }
    const deadline = new Date(Date.now() + (this.options.maxStreamAgeMs ?? 10 * 60_000));
    this.connects++;
    const stream = this.client.watch(
      { node: this.options.node ?? '', waypoint: this.options.waypoint ?? '', kinds: [...this.kinds], initialVersions },
      md,
      { deadline },
    );
    this.stream = stream;
    const buffering = new Map<ResourceKind, Delta[]>(this.kinds.map((k) => [k, []]));
    let synced = false;
    let gotData = false;
    this.syncTimer = setTimeout(() => {
      if (this.stream === stream && !synced) {
        this.log.warn({ address: this.options.address }, 'no snapshot from the control plane in time; reconnecting');
        stream.cancel();
      }
    }, this.options.syncTimeoutMs ?? 30_000);

    stream.on('data', (msg: WatchResponse) => {
      if (!gotData) {
        gotData = true;
        this.emit('connected');
      }
      const delta = this.convert(msg);
      if (!delta) return;
      if (delta.replace && !buffering.has(delta.kind)) buffering.set(delta.kind, []);
      const buf = buffering.get(delta.kind);
      if (buf) {
        buf.push(delta);
        if (!delta.snapshotDone) return;
        buffering.delete(delta.kind);
        this.options.store.apply(buf);
      } else {
        this.options.store.apply([delta]);
      }
      if (!synced && buffering.size === 0) {
        synced = true;
        clearTimeout(this.syncTimer);
        this.backoff.reset();
        this.log.info({ address: this.options.address, resumed: Object.keys(initialVersions).length > 0 }, 'discovery synced');
        if (!this.everSynced) {
          this.everSynced = true;
          for (const w of this.syncWaiters.splice(0)) w();
        }
        this.emit('synced');
      }
    });
    stream.on('error', (err: ServiceError) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      clearTimeout(this.syncTimer);
      if (this.closed) return;
      // A stream that synced and then hit its age deadline resumes at once.
      if (synced && err.code === GrpcStatus.DEADLINE_EXCEEDED) {
        this.backoff.reset();
        void this.connect();
        return;
      }
      this.fail(
        new WeftError('ERR_WEFT_CONTROL_UNAVAILABLE', { address: this.options.address, reason: `${GrpcStatus[err.code] ?? err.code}: ${err.details || err.message}` }, { cause: err }),
      );
    });
    stream.on('end', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      clearTimeout(this.syncTimer);
      if (!this.closed) this.fail(new WeftError('ERR_WEFT_CONTROL_UNAVAILABLE', { address: this.options.address, reason: 'stream ended' }));
    });
  }

  private fail(err: WeftError): void {
    if (this.closed) return;
    const delay = this.backoff.next();
    this.log.warn({ code: err.code, reason: err.message, retryInMs: delay, attempt: this.backoff.attempts }, 'control plane stream lost; keeping last state');
    this.emit('disconnected', err);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Converts one message, dropping (and logging) any resource that fails validation. */
  private convert(msg: WatchResponse): Delta | undefined {
    if (!isResourceKind(msg.kind)) {
      this.log.warn({ kind: msg.kind }, 'discovery sent an unknown kind; ignored');
      return undefined;
    }
    const kind = msg.kind;
    const upserts: unknown[] = [];
    for (const u of msg.upserts) {
      try {
        upserts.push(resourceFromProto(kind, u));
      } catch (err) {
        this.log.error({ err: isWeftError(err) ? err.message : err, kind }, 'invalid resource from the control plane; skipped');
      }
    }
    return { kind, version: msg.version, upserts, removes: msg.removes, replace: msg.replace || undefined, snapshotDone: msg.snapshotDone || undefined } as Delta;
  }
}
