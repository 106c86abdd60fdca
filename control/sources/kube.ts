import { EventEmitter } from 'node:events';
import { KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../lib/telemetry/log.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { Backoff } from '../../lib/backoff.js';
import { WeftError } from '../../lib/errors/index.js';
import { KubeApi, collectionPath, type TokenReviewResult } from './kube-api.js';
import { KIND_INFO, OBJECT_KINDS, objectKey, validateObject } from './schemas.js';
import { failClosedPolicy } from './authz-fail-closed.js';
import type { ClusterSource, InvalidInfo, KubeObject, ObjectKind, ObjectRef, SourceChange } from './source.js';
import { ChangeBatcher } from './change-batcher.js';
import { trimForCache } from './kube-cache-trim.js';
import { crdMissing, kubeconfigPath, reachApiServer } from './kube-reach.js';

export interface KubeSourceOptions {
  /** Default: in-cluster config when running in a pod, else the default kubeconfig (`KUBECONFIG`, ~/.kube/config). */
  readonly kubeConfig?: KubeConfig;
  readonly logger?: Logger;
  /** Kinds to watch (default every ObjectKind). */
  readonly kinds?: readonly ObjectKind[];
  /** Per-kind label selectors applied to list and watch. */
  readonly labelSelectors?: Partial<Record<ObjectKind, string>>;
  /** Kinds watched in one namespace only (e.g. ConfigMaps: only the control plane's own are read). */
  readonly namespaces?: Partial<Record<ObjectKind, string>>;
  /** Backoff for restarting an informer after a watch/list error (default 500 ms → 30 s). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Server-side watch timeout; the informer re-watches from its resourceVersion after it (default 300 s). */
  readonly watchTimeoutSeconds?: number;
  /** How long start() retries an API server that does not answer before it gives up (default 30 s). */
  readonly reachTimeoutMs?: number;
  /** Objects per list page (`limit`, then `continue`; default 500, as client-go's reflector pages). */
  readonly listPageSize?: number;
}

/**
 * Page size of an informer's list: one page of 500 pods is ~2 MB of JSON, where a single list of 10 000
 * was ~40 MB of text plus its untrimmed objects at once (weft-control's RSS peak at that scale).
 */
const LIST_PAGE_SIZE = 500;

/**
 * The real client's Watch with bookmarks on (so a resumed watch starts from a recent resourceVersion
 * instead of one that has been compacted away) and a server-side timeout, as client-go's reflector does.
 */
class BookmarkingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly timeoutSeconds: number,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // Jitter the timeout so that informers do not all re-watch in the same second.
    const timeout = Math.round(this.timeoutSeconds * (1 + Math.random()));
    const trimmed = (phase: string, apiObj: unknown, watchObj?: unknown): void => callback(phase, trimForCache(apiObj), watchObj);
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: timeout }, trimmed, done);
  }
}

interface KindState {
  readonly kind: ObjectKind;
  readonly informer: ListWatch<KubernetesObject>;
  readonly backoff: Backoff;
  readonly objects: Map<string, KubeObject>;
  /** Resolves at the first successful list. */
  readonly synced: Promise<void>;
  markSynced: () => void;
  isSynced: boolean;
  restartTimer: NodeJS.Timeout | undefined;
  /** Whether the last list found the kind's CRD missing (reported once until it is served). */
  crdMissing: boolean;
  /** `kind/ns/name@rv` of the last invalid version reported, so each is logged once. */
  readonly reportedInvalid: Set<string>;
}

/** Typed `on` overloads of ClusterSource (the class inherits EventEmitter's untyped ones). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface KubeSource {
  on(event: 'change', listener: (changes: readonly SourceChange[]) => void): this;
  on(event: 'invalid', listener: (info: InvalidInfo) => void): this;
}

/**
 * Cluster state from the Kubernetes API: one `ListWatch` informer of `@kubernetes/client-node` per kind.
 * The client relists by itself on 410 Gone; every other list/watch error stops its informer, and this
 * source restarts it with jittered backoff (resuming from the last resourceVersion, or relisting). Objects
 * are validated on arrival; an invalid one is reported once per version and kept out of the state (an
 * object that turns invalid is removed, as if deleted, until it validates again) — except an
 * AuthorizationPolicy, which is served in its fail-closed form (authz-fail-closed.ts) meanwhile.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class KubeSource extends EventEmitter implements ClusterSource {
  readonly type = 'kubernetes' as const;
  readonly api: KubeApi;
  readonly kubeConfig: KubeConfig;
  private readonly log: Logger;
  private readonly kinds = new Map<ObjectKind, KindState>();
  private readonly batcher: ChangeBatcher;
  /** `Kind/ns/name` → why it is skipped. */
  private readonly invalid = new Map<string, InvalidInfo>();
  private started = false;
  private stopped = false;

  constructor(private readonly options: KubeSourceOptions = {}) {
    super();
    this.kubeConfig = options.kubeConfig ?? defaultKubeConfig();
    try {
      this.api = new KubeApi(this.kubeConfig);
    } catch (err) {
      throw new WeftError('ERR_WEFT_SOURCE_KUBECONFIG_INVALID', { path: kubeconfigPath(), reason: (err as Error).message }, { cause: err });
    }
    this.log = (options.logger ?? silentLogger).child({ component: 'sources.kube' });
    this.batcher = new ChangeBatcher((changes) => this.emit('change', changes));
  }

  /** The resourceVersion an informer would resume from (diagnostics; tests of bookmark handling). */
  resourceVersionOf(kind: ObjectKind): string | undefined {
    return this.kinds.get(kind)?.informer.latestResourceVersion();
  }

  /** Kinds whose informers have not listed yet (readiness reporting). */
  pendingKinds(): ObjectKind[] {
    return [...this.kinds.values()].filter((k) => !k.isSynced).map((k) => k.kind);
  }

  async start(): Promise<void> {
    if (this.started) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: 'KubeSource.start called twice' });
    this.started = true;
    await reachApiServer(this.api, this.kubeConfig, this.options.reachTimeoutMs ?? 30_000, this.log);
    const watch = new BookmarkingWatch(this.kubeConfig, this.options.watchTimeoutSeconds ?? 300);
    for (const kind of this.options.kinds ?? OBJECT_KINDS) this.kinds.set(kind, this.makeKind(kind, watch));
    for (const state of this.kinds.values()) this.startInformer(state);
    await Promise.all([...this.kinds.values()].map((k) => k.synced));
    if (this.stopped) return;
    this.batcher.enable();
    this.log.info({ kinds: this.kinds.size, objects: this.countObjects() }, 'Kubernetes source synced');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.batcher.close();
    for (const state of this.kinds.values()) {
      if (state.restartTimer !== undefined) clearTimeout(state.restartTimer);
      await state.informer.stop();
      state.markSynced(); // release a pending start()
    }
  }

  list(kind: ObjectKind): readonly KubeObject[] {
    return [...(this.kinds.get(kind)?.objects.values() ?? [])];
  }

  invalidObjects(): readonly InvalidInfo[] {
    return [...this.invalid.values()];
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.kinds.get(ref.kind)?.objects.get(objectKey(KIND_INFO[ref.kind].namespaced ? ref.namespace : undefined, ref.name));
  }

  async writeStatus(ref: ObjectRef, status: unknown): Promise<void> {
    await this.api.writeStatus(ref, status);
  }

  async apply(object: KubeObject, fieldManager: string): Promise<void> {
    await this.api.apply(object, fieldManager);
  }

  async delete(ref: ObjectRef): Promise<void> {
    await this.api.delete(ref);
  }

  /** TokenReview (authentication.k8s.io/v1) for the identity service. */
  tokenReview(token: string, audiences: readonly string[]): Promise<TokenReviewResult> {
    return this.api.tokenReview(token, audiences);
  }

  // -------------------------------------------------------------------------------------------------

  private makeKind(kind: ObjectKind, watch: Watch): KindState {
    const info = KIND_INFO[kind];
    const path = collectionPath(info, this.options.namespaces?.[kind]);
    const labelSelector = this.options.labelSelectors?.[kind];
    let markSynced = (): void => undefined;
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const limit = String(this.options.listPageSize ?? LIST_PAGE_SIZE);
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      // Page by page, each trimmed before the next is read: the pages of one list are one snapshot (the
      // first page's resourceVersion), and an expired continue token fails the list, which is retried whole.
      const items: KubernetesObject[] = [];
      let page: KubernetesListObject<KubernetesObject> | undefined;
      let next: string | undefined;
      do {
        const res = await this.api.rest.expect<KubernetesListObject<KubernetesObject>>('GET', path, { query: { labelSelector, limit, continue: next }, allow: [404] });
        // A kind of a CRD group answers 404 while its CRD is not installed.
        if (res.status === 404) throw crdMissing(kind) ?? new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'GET', path, status: 404, reason: 'not found' });
        page = res.body;
        for (const item of page?.items ?? []) items.push(trimForCache(item, kind));
        // Raw JSON: the field is `continue` (the client's generated types call it `_continue`).
        next = (page?.metadata as { continue?: string } | undefined)?.continue || undefined;
      } while (next !== undefined);
      if (state.crdMissing) {
        state.crdMissing = false;
        this.log.info({ kind }, '%s is served now: its CustomResourceDefinition was installed', kind);
      }
      return { apiVersion: page?.apiVersion ?? info.apiVersion, kind: page?.kind ?? `${kind}List`, items, metadata: { resourceVersion: page?.metadata?.resourceVersion } };
    };
    const informer = new ListWatch<KubernetesObject>(path, watch, listFn, false, labelSelector);
    const backoff = new Backoff({ initialMs: this.options.backoff?.initialMs ?? 500, maxMs: this.options.backoff?.maxMs ?? 30_000 });
    const state: KindState = {
      kind,
      informer,
      backoff,
      objects: new Map(),
      synced,
      markSynced: () => markSynced(),
      isSynced: false,
      restartTimer: undefined,
      crdMissing: false,
      reportedInvalid: new Set(),
    };
    informer.on('add', (o) => this.onUpsert(state, o));
    informer.on('update', (o) => this.onUpsert(state, o));
    informer.on('delete', (o) => this.onDelete(state, o));
    informer.on('error', (err: unknown) => this.onError(state, err));
    return state;
  }

  private startInformer(state: KindState): void {
    state.restartTimer = undefined;
    if (this.stopped) return;
    const before = state.informer.latestResourceVersion();
    state.informer.start().then(
      () => {
        // ListWatch.start resolves after a list (or a resume) and the watch request; a failed list has
        // already gone to onError. A resourceVersion means the cache reflects the server.
        if (state.informer.latestResourceVersion() !== '' || before !== '') {
          if (!state.isSynced) {
            state.isSynced = true;
            state.markSynced();
            this.log.debug({ kind: state.kind, objects: state.objects.size }, 'informer synced');
          }
        }
      },
      (err: unknown) => this.onError(state, err),
    );
  }

  private onError(state: KindState, err: unknown): void {
    if (this.stopped || state.restartTimer !== undefined) return;
    const delay = state.backoff.next();
    if (err instanceof WeftError && err.code === 'ERR_WEFT_SOURCE_CRD_MISSING') {
      this.onCrdMissing(state, err);
      state.restartTimer = setTimeout(() => this.startInformer(state), delay);
      state.restartTimer.unref?.();
      return;
    }
    const e = err as { statusCode?: number; code?: unknown; message?: string } | undefined;
    this.log.warn(
      { kind: state.kind, status: e?.statusCode ?? e?.code, err: e?.message ?? String(err), retryInMs: delay, attempt: state.backoff.attempts },
      'watch of %s failed; restarting the informer',
      state.kind,
    );
    state.restartTimer = setTimeout(() => this.startInformer(state), delay);
    state.restartTimer.unref?.();
  }

  /**
   * No CRD, no objects of its kind: said once (with the command that installs it), the kind counts as
   * synced and empty so that the rest of the mesh is served, and the informer keeps retrying (backoff up
   * to 30 s) to pick the kind up once the CRD is installed.
   */
  private onCrdMissing(state: KindState, err: WeftError): void {
    if (!state.crdMissing) {
      state.crdMissing = true;
      this.log.error({ code: err.code, kind: state.kind, hint: err.hint }, err.message);
    }
    for (const previous of state.objects.values()) this.batcher.push({ type: 'delete', object: previous });
    state.objects.clear();
    if (!state.isSynced) {
      state.isSynced = true;
      state.markSynced();
    }
  }

  private onUpsert(state: KindState, raw: KubernetesObject): void {
    state.backoff.reset();
    const info = KIND_INFO[state.kind];
    // List items come without kind/apiVersion; fill them in before validation.
    const candidate = { ...raw, kind: raw.kind ?? state.kind, apiVersion: raw.apiVersion ?? info.apiVersion };
    const key = objectKey(info.namespaced ? raw.metadata?.namespace : undefined, raw.metadata?.name ?? '');
    const previous = state.objects.get(key);
    if (previous !== undefined && previous.metadata.resourceVersion !== undefined && previous.metadata.resourceVersion === raw.metadata?.resourceVersion) {
      return; // a relist re-delivers unchanged objects
    }
    const result = validateObject(candidate);
    if (!result.ok) {
      const info: InvalidInfo = { ref: { ...result.ref, kind: state.kind }, reason: result.reason, object: candidate };
      this.invalid.set(`${state.kind}/${key}`, info);
      const id = `${key}@${raw.metadata?.resourceVersion ?? ''}`;
      if (!state.reportedInvalid.has(id)) {
        if (state.reportedInvalid.size > 10_000) state.reportedInvalid.clear();
        state.reportedInvalid.add(id);
        const err = new WeftError('ERR_WEFT_SOURCE_INVALID_OBJECT', { kind: state.kind, name: key, origin: 'the Kubernetes API', reason: result.reason });
        this.log.warn({ code: err.code, kind: state.kind, object: key }, err.message);
        this.emit('invalid', info);
      }
      const substitute = state.kind === 'AuthorizationPolicy' ? failClosedPolicy(candidate, result.reason) : undefined;
      if (substitute !== undefined) {
        state.objects.set(key, substitute);
        this.batcher.push({ type: 'upsert', object: substitute });
      } else if (previous !== undefined) {
        state.objects.delete(key);
        this.batcher.push({ type: 'delete', object: previous });
      }
      return;
    }
    this.invalid.delete(`${state.kind}/${key}`);
    state.objects.set(key, result.object);
    this.batcher.push({ type: 'upsert', object: result.object });
  }

  private onDelete(state: KindState, raw: KubernetesObject): void {
    const info = KIND_INFO[state.kind];
    const key = objectKey(info.namespaced ? raw.metadata?.namespace : undefined, raw.metadata?.name ?? '');
    this.invalid.delete(`${state.kind}/${key}`);
    const previous = state.objects.get(key);
    if (previous === undefined) return;
    state.objects.delete(key);
    this.batcher.push({ type: 'delete', object: previous });
  }

  private countObjects(): number {
    let n = 0;
    for (const k of this.kinds.values()) n += k.objects.size;
    return n;
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault(); // in-cluster when KUBERNETES_SERVICE_HOST and the SA token are present
  } catch (err) {
    throw new WeftError('ERR_WEFT_SOURCE_KUBECONFIG_INVALID', { path: kubeconfigPath(), reason: (err as Error).message }, { cause: err });
  }
  return kc;
}

export type { SourceChange };
