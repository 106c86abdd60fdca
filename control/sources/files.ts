import { EventEmitter } from 'node:events';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify as toYaml } from 'yaml';
import type { Logger } from '../../lib/telemetry/log.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { WeftError } from '../../lib/errors/index.js';
import { KIND_INFO, isObjectKind, objectKey, refOf, validateObject } from './schemas.js';
import type { ClusterSource, InvalidInfo, KubeObject, ObjectKind, ObjectRef, SourceChange } from './source.js';

export interface DirectorySourceOptions {
  /** The cluster-state directory (layout.md: manifests/, pods/, generated/, status/). Created if missing. */
  readonly dir: string;
  readonly logger?: Logger;
  /** Quiet time after a file event before rescanning (default 20 ms). */
  readonly debounceMs?: number;
  /** Safety-net full rescan period, for events fs.watch missed (default 2 s; 0 disables). */
  readonly rescanIntervalMs?: number;
  /** Namespace for namespaced objects written without one (default `default`, as kubectl does). */
  readonly defaultNamespace?: string;
  /** Set false where inotify does not work (network filesystems): only the periodic rescan then sees changes. */
  readonly watch?: boolean;
}

export const STATUS_DIR = 'status';
export const GENERATED_DIR = 'generated';
/** Files larger than this are reported and skipped rather than parsed. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_REPORTED = 20_000;

interface FileEntry {
  /** `mtimeMs:size:ino`, to skip rereading unchanged files. */
  readonly stamp: string;
  /** Objects this file defines, by object key (`Kind/ns/name`), raw (validated later with their status). */
  readonly objects: Map<string, RawDoc>;
  /** Status documents this file carries (only under status/), by object key. */
  readonly statuses: Map<string, unknown>;
}

interface RawDoc {
  readonly raw: Record<string, unknown>;
  /** `relative/file#docIndex` and the document text, for once-per-content reports. */
  readonly where: string;
  readonly source: string;
}

interface Current {
  readonly object: KubeObject;
  /** Fingerprint of the raw inputs (object doc + status doc) it was built from. */
  readonly fingerprint: string;
}

/** Typed `on` overloads of ClusterSource (the class inherits EventEmitter's untyped ones). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface DirectorySource {
  on(event: 'change', listener: (changes: readonly SourceChange[]) => void): this;
  on(event: 'invalid', listener: (info: InvalidInfo) => void): this;
}

/**
 * Cluster state from a directory of Kubernetes-shaped YAML/JSON (the lab's cluster directory and a user's
 * offline playground): every `*.yaml|*.yml|*.json` below `dir`, multi-document, `kind: List` expanded.
 * Files under `status/` are not objects but status subresources merged into the object they name.
 *
 * Watching: one non-recursive fs.watch per directory (recursive fs.watch is unreliable on Linux with
 * Node 20), events debounced into a rescan that rereads only files whose mtime/size/inode changed, plus a
 * periodic full rescan as a safety net for missed events. Invalid documents are reported once per (file,
 * content) and skipped; they never stop the rest of the directory from loading.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class DirectorySource extends EventEmitter implements ClusterSource {
  readonly type = 'directory' as const;
  readonly dir: string;
  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly rescanIntervalMs: number;
  private readonly defaultNamespace: string;
  private readonly watchEnabled: boolean;
  private readonly files = new Map<string, FileEntry>();
  private readonly current = new Map<string, Current>(); // object key → object
  /** Object key → files defining it / carrying its status (duplicates: the last path in sort order wins). */
  private readonly objectFiles = new Map<string, Set<string>>();
  private readonly statusFiles = new Map<string, Set<string>>();
  private readonly byKind = new Map<ObjectKind, Map<string, KubeObject>>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly reported = new Set<string>();
  /** Object key → why it is skipped (objects that parsed and have a kind and name). */
  private readonly invalid = new Map<string, InvalidInfo>();
  private debounceTimer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanAgain = false;
  /** Paths named by watch events since the last scan; `fullScan` when an event named none (or on the timer). */
  private dirty = new Set<string>();
  private fullScan = false;
  private started = false;
  private stopped = false;

  constructor(options: DirectorySourceOptions) {
    super();
    this.dir = path.resolve(options.dir);
    this.log = (options.logger ?? silentLogger).child({ component: 'sources.files' });
    this.debounceMs = options.debounceMs ?? 20;
    this.rescanIntervalMs = options.rescanIntervalMs ?? 2_000;
    this.defaultNamespace = options.defaultNamespace ?? 'default';
    this.watchEnabled = options.watch ?? true;
    for (const kind of Object.keys(KIND_INFO) as ObjectKind[]) this.byKind.set(kind, new Map());
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.scan();
    this.started = true;
    if (this.rescanIntervalMs > 0) {
      this.rescanTimer = setInterval(() => this.requestScan(this.debounceMs, undefined), this.rescanIntervalMs);
      this.rescanTimer.unref();
    }
    this.requestScan(this.debounceMs, undefined); // catches writes that raced the initial scan
    this.log.info({ dir: this.dir, objects: this.current.size, files: this.files.size }, 'directory source loaded');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    if (this.rescanTimer !== undefined) clearInterval(this.rescanTimer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.scanning;
  }

  list(kind: ObjectKind): readonly KubeObject[] {
    return [...(this.byKind.get(kind)?.values() ?? [])];
  }

  invalidObjects(): readonly InvalidInfo[] {
    return [...this.invalid.values()];
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.current.get(this.keyOf(ref.kind, ref.namespace, ref.name))?.object;
  }

  /** Resolves after a rescan that started after this call (tests; writers wanting read-your-writes). */
  async sync(): Promise<void> {
    if (this.debounceTimer !== undefined) {
      clearTimeout(this.debounceTimer);
      this.debounceTimer = undefined;
    }
    await this.settle();
    this.fullScan = true;
    await this.runScan();
    await this.settle();
  }

  private async settle(): Promise<void> {
    while (this.scanning !== undefined) await this.scanning;
  }

  async writeStatus(ref: ObjectRef, status: unknown): Promise<void> {
    const namespaced = KIND_INFO[ref.kind].namespaced;
    const doc = {
      apiVersion: KIND_INFO[ref.kind].apiVersion,
      kind: ref.kind,
      metadata: namespaced ? { name: ref.name, namespace: ref.namespace ?? this.defaultNamespace } : { name: ref.name },
      status,
    };
    await this.writeAtomic(path.join(this.dir, STATUS_DIR, fileNameOf(ref.kind, namespaced ? (ref.namespace ?? this.defaultNamespace) : undefined, ref.name)), toYaml(doc));
  }

  /**
   * Directory mode's server-side apply: the whole object goes to `generated/` (the lab runs the pods of
   * Deployments found there). Acting as the API server, it keeps the uid and creationTimestamp of an earlier
   * apply. The field manager is recorded in an annotation for people reading the file.
   */
  async apply(object: KubeObject, fieldManager: string): Promise<void> {
    const info = KIND_INFO[object.kind];
    const ns = info.namespaced ? (object.metadata.namespace ?? this.defaultNamespace) : undefined;
    const file = path.join(this.dir, GENERATED_DIR, fileNameOf(object.kind, ns, object.metadata.name));
    const previous = await readPrevious(file);
    const metadata = {
      ...object.metadata,
      ...(ns === undefined ? {} : { namespace: ns }),
      uid: previous?.uid ?? object.metadata.uid ?? randomUUID(),
      creationTimestamp: previous?.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      annotations: { ...object.metadata.annotations, 'weft.dev/field-manager': fieldManager },
    };
    delete (metadata as { resourceVersion?: string }).resourceVersion;
    await this.writeAtomic(file, toYaml({ ...object, apiVersion: object.apiVersion || info.apiVersion, metadata }));
  }

  /** Removes an object from `generated/` (objects under manifests/ belong to the user or the lab). */
  async delete(ref: ObjectRef): Promise<void> {
    const ns = KIND_INFO[ref.kind].namespaced ? (ref.namespace ?? this.defaultNamespace) : undefined;
    const file = path.join(this.dir, GENERATED_DIR, fileNameOf(ref.kind, ns, ref.name));
    await rm(file, { force: true });
    this.requestScan(this.debounceMs, file);
  }

  // -------------------------------------------------------------------------------------------------

  private keyOf(kind: string, namespace: string | undefined, name: string): string {
    const namespaced = isObjectKind(kind) ? KIND_INFO[kind].namespaced : true;
    return `${kind}/${objectKey(namespaced ? (namespace ?? this.defaultNamespace) : undefined, name)}`;
  }

  private async writeAtomic(file: string, content: string): Promise<void> {
    try {
      const existing = await readFile(file, 'utf8').catch(() => undefined);
      if (existing === content) return; // unchanged: no event, no churn
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, content);
      await rename(tmp, file);
    } catch (err) {
      throw new WeftError('ERR_WEFT_SOURCE_WRITE', { what: file, reason: (err as Error).message }, { cause: err });
    }
    // A directory not watched yet (just created) is walked, which also starts watching it.
    this.requestScan(this.debounceMs, this.watchers.has(path.dirname(file)) ? file : path.dirname(file));
  }

  /** `changed`: the path an event named (a rescan of just it); undefined: a full walk. */
  private requestScan(delayMs: number, changed: string | undefined): void {
    if (this.stopped || !this.started) return;
    if (changed === undefined) this.fullScan = true;
    else this.dirty.add(changed);
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.runScan();
    }, delayMs);
  }

  private async runScan(): Promise<void> {
    if (this.scanning !== undefined) {
      this.rescanAgain = true;
      return;
    }
    const full = this.fullScan || this.dirty.size > 1000;
    const scope = this.dirty;
    this.fullScan = false;
    this.dirty = new Set();
    this.scanning = this.scan(full ? undefined : scope)
      .catch((err: unknown) => this.log.error({ err }, 'rescan of %s failed', this.dir))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescanAgain && !this.stopped) {
          this.rescanAgain = false;
          void this.runScan();
        }
      });
    await this.scanning;
  }

  /**
   * Rereads changed files, recomputes the objects they touch and emits the changes: the whole tree
   * (`scope` undefined), or only the paths watch events named — so one changed file among thousands costs
   * one stat and one read, not a walk.
   */
  private async scan(scope?: ReadonlySet<string>): Promise<void> {
    const seenFiles = new Map<string, string>(); // file → stamp
    const gone = new Set<string>();
    if (scope === undefined) {
      const seenDirs = new Set<string>();
      await this.walk(this.dir, seenDirs, seenFiles);
      for (const [dir, w] of this.watchers) {
        if (!seenDirs.has(dir)) {
          w.close();
          this.watchers.delete(dir);
        }
      }
      for (const file of this.files.keys()) if (!seenFiles.has(file)) gone.add(file);
    } else {
      for (const p of scope) await this.scanPath(p, seenFiles, gone);
    }
    const touched = new Set<string>();
    for (const file of gone) {
      const entry = this.files.get(file);
      if (entry === undefined) continue;
      this.unindex(file, entry, touched);
      this.files.delete(file);
    }
    for (const [file, stamp] of seenFiles) {
      const old = this.files.get(file);
      if (old?.stamp === stamp) continue;
      const entry = await this.load(file, stamp);
      if (entry === undefined) continue; // vanished between readdir and read: next scan settles it
      if (old !== undefined) this.unindex(file, old, touched);
      this.files.set(file, entry);
      this.index(file, entry, touched);
    }
    if (touched.size === 0) return;
    const changes = this.recompute(touched);
    if (this.started && changes.length > 0 && !this.stopped) this.emit('change', changes);
  }

  /** One path a watch event named: a file (changed, new or gone) or a directory (new, or gone with its tree). */
  private async scanPath(p: string, seenFiles: Map<string, string>, gone: Set<string>): Promise<void> {
    const under = (f: string): boolean => f === p || f.startsWith(p + path.sep);
    let s;
    try {
      s = await stat(p);
    } catch {
      s = undefined;
    }
    if (s === undefined) {
      for (const file of this.files.keys()) if (under(file)) gone.add(file);
      for (const [dir, w] of this.watchers) {
        if (under(dir)) {
          w.close();
          this.watchers.delete(dir);
        }
      }
    } else if (s.isDirectory()) {
      const found = new Map<string, string>();
      await this.walk(p, new Set(), found);
      for (const [f, stamp] of found) seenFiles.set(f, stamp);
      for (const file of this.files.keys()) if (file.startsWith(p + path.sep) && !found.has(file)) gone.add(file);
    } else if (s.isFile() && isManifestName(path.basename(p))) {
      seenFiles.set(p, `${s.mtimeMs}:${s.size}:${s.ino}`);
    }
  }

  private index(file: string, entry: FileEntry, touched: Set<string>): void {
    for (const k of entry.objects.keys()) {
      touched.add(k);
      addTo(this.objectFiles, k, file);
    }
    for (const k of entry.statuses.keys()) {
      touched.add(k);
      addTo(this.statusFiles, k, file);
    }
  }

  private unindex(file: string, entry: FileEntry, touched: Set<string>): void {
    for (const k of entry.objects.keys()) {
      touched.add(k);
      removeFrom(this.objectFiles, k, file);
    }
    for (const k of entry.statuses.keys()) {
      touched.add(k);
      removeFrom(this.statusFiles, k, file);
    }
  }

  private async walk(dir: string, seenDirs: Set<string>, seenFiles: Map<string, string>): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed while walking
    }
    seenDirs.add(dir);
    this.watchDir(dir);
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // temp files of atomic writes, editor swap files
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await this.walk(full, seenDirs, seenFiles);
      else if (e.isFile() && isManifestName(e.name)) {
        try {
          const s = await stat(full);
          seenFiles.set(full, `${s.mtimeMs}:${s.size}:${s.ino}`);
        } catch {
          // removed while walking
        }
      }
    }
  }

  private watchDir(dir: string): void {
    if (this.stopped || !this.watchEnabled || this.watchers.has(dir)) return;
    try {
      const w = fsWatch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === '') this.requestScan(this.debounceMs, undefined);
        else if (!filename.startsWith('.')) this.requestScan(this.debounceMs, path.join(dir, filename));
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
        this.requestScan(this.debounceMs, undefined);
      });
      this.watchers.set(dir, w);
    } catch (err) {
      this.log.debug({ dir, err }, 'cannot watch directory; the periodic rescan covers it');
    }
  }

  private async load(file: string, stamp: string): Promise<FileEntry | undefined> {
    const rel = path.relative(this.dir, file);
    const isStatus = rel.split(path.sep)[0] === STATUS_DIR;
    const entry: FileEntry = { stamp, objects: new Map(), statuses: new Map() };
    let text: string;
    try {
      const s = await stat(file);
      if (s.size > MAX_FILE_BYTES) {
        this.report(rel, `size:${stamp}`, {}, `file is ${s.size} bytes, larger than the ${MAX_FILE_BYTES}-byte limit`);
        return entry;
      }
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    for (const { index, value, error, source } of parseDocuments(file, text)) {
      const where = `${rel}#${index}`;
      if (error !== undefined) {
        this.report(where, source, {}, error);
        continue;
      }
      if (value === null || value === undefined) continue; // empty document (`---` at the end)
      for (const item of expandList(value)) {
        const raw = item as Record<string, unknown>;
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          this.report(where, source, {}, 'document is not an object');
          continue;
        }
        const kind = raw.kind;
        if (typeof kind === 'string' && typeof raw.apiVersion === 'string' && !isObjectKind(kind)) continue; // a kind weft does not read
        const meta = raw.metadata as { name?: unknown; namespace?: unknown } | undefined;
        if (!isObjectKind(kind) || typeof meta?.name !== 'string' || meta.name === '') {
          const v = validateObject(raw);
          this.report(where, source, v.ok ? {} : v.ref, v.ok ? 'metadata.name: required' : v.reason, raw);
          continue;
        }
        const key = this.keyOf(kind, typeof meta.namespace === 'string' ? meta.namespace : undefined, meta.name);
        if (isStatus) entry.statuses.set(key, raw.status);
        else entry.objects.set(key, { raw, where, source });
      }
    }
    return entry;
  }

  /** Rebuilds the objects behind `keys` from the file table and returns the resulting changes. */
  private recompute(keys: Set<string>): SourceChange[] {
    const changes: SourceChange[] = [];
    for (const key of keys) {
      const objectFile = lastOf(this.objectFiles.get(key));
      const doc = objectFile === undefined ? undefined : this.files.get(objectFile)?.objects.get(key);
      const statusFile = lastOf(this.statusFiles.get(key));
      const hasStatus = statusFile !== undefined;
      const status = hasStatus ? this.files.get(statusFile)?.statuses.get(key) : undefined;
      const before = this.current.get(key);
      const next = doc === undefined ? undefined : this.build(key, doc, hasStatus, status);
      if (next !== undefined || doc === undefined) this.invalid.delete(key);
      if (next === undefined) {
        if (before !== undefined) {
          this.remove(key, before.object);
          changes.push({ type: 'delete', object: before.object });
        }
        continue;
      }
      if (before?.fingerprint === next.fingerprint) continue;
      this.current.set(key, next);
      this.byKind.get(next.object.kind)?.set(key, next.object);
      changes.push({ type: 'upsert', object: next.object });
    }
    return changes;
  }

  private build(key: string, doc: RawDoc, hasStatus: boolean, status: unknown): Current | undefined {
    const raw = doc.raw;
    const fingerprint = `${JSON.stringify(raw)}\u0000${hasStatus ? JSON.stringify(status) : ''}`;
    const before = this.current.get(key);
    if (before?.fingerprint === fingerprint) return before;
    if (hasStatus) {
      const merged = validateObject({ ...raw, status }, { defaultNamespace: this.defaultNamespace });
      if (merged.ok) return { object: merged.object, fingerprint };
    }
    const plain = validateObject(raw, { defaultNamespace: this.defaultNamespace });
    if (!plain.ok) {
      this.invalid.set(key, { ref: plain.ref, file: path.join(this.dir, doc.where.split('#')[0] ?? ''), reason: plain.reason, object: raw });
      this.report(doc.where, doc.source, plain.ref, plain.reason, raw);
      return undefined;
    }
    if (hasStatus) this.report(`${STATUS_DIR}/${key}`, JSON.stringify(status), refOf(plain.object), 'status does not validate; using the object without it');
    return { object: plain.object, fingerprint };
  }

  private remove(key: string, object: KubeObject): void {
    this.current.delete(key);
    this.byKind.get(object.kind)?.delete(key);
  }

  private report(where: string, content: string, ref: Partial<ObjectRef>, reason: string, object?: unknown): void {
    const id = `${where}\u0000${hashOf(content)}`;
    if (this.reported.has(id)) return;
    if (this.reported.size >= MAX_REPORTED) this.reported.clear();
    this.reported.add(id);
    const err = new WeftError('ERR_WEFT_SOURCE_INVALID_OBJECT', {
      kind: ref.kind ?? 'object',
      name: ref.name === undefined ? '(unnamed)' : objectKey(ref.namespace, ref.name),
      origin: where,
      reason,
    });
    this.log.warn({ code: err.code, file: where }, err.message);
    const file = where.split('#')[0];
    const info: InvalidInfo = { ref, file: path.join(this.dir, file), reason };
    if (object !== undefined) info.object = object;
    this.emit('invalid', info);
  }
}

/** `<Kind>.<namespace>.<name>.yaml`, or `<Kind>.<name>.yaml` for cluster-scoped kinds (layout.md). */
export function fileNameOf(kind: ObjectKind, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind}.${name}.yaml` : `${kind}.${namespace}.${name}.yaml`;
}

/** Dotfiles are temp files of atomic writes and editor swap files. */
function isManifestName(name: string): boolean {
  return !name.startsWith('.') && /\.(ya?ml|json)$/i.test(name);
}

function addTo(index: Map<string, Set<string>>, key: string, file: string): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(file);
}

function removeFrom(index: Map<string, Set<string>>, key: string, file: string): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(file);
  if (set.size === 0) index.delete(key);
}

/** The greatest path of a set (deterministic winner among duplicate definitions). */
function lastOf(files: Set<string> | undefined): string | undefined {
  let best: string | undefined;
  for (const f of files ?? []) if (best === undefined || f > best) best = f;
  return best;
}

function hashOf(text: string): string {
  return createHash('sha1').update(text).digest('base64url');
}

interface ParsedDoc {
  index: number;
  value?: unknown;
  error?: string;
  /** The document's own text, for once-per-content reporting. */
  source: string;
}

function parseDocuments(file: string, text: string): ParsedDoc[] {
  if (file.toLowerCase().endsWith('.json')) {
    try {
      return [{ index: 0, value: JSON.parse(text) as unknown, source: text }];
    } catch (err) {
      return [{ index: 0, error: `invalid JSON: ${(err as Error).message}`, source: text }];
    }
  }
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false });
  } catch (err) {
    return [{ index: 0, error: `invalid YAML: ${(err as Error).message}`, source: text }];
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ParsedDoc[] = [];
  list.forEach((doc, index) => {
    const range = (doc as { range?: [number, number, number] }).range;
    const source = range === undefined ? text : text.slice(range[0], range[2]);
    const errors = (doc as { errors?: { message: string }[] }).errors ?? [];
    if (errors.length > 0) {
      out.push({ index, error: `invalid YAML: ${errors[0]?.message.split('\n')[0] ?? 'parse error'}`, source });
      return;
    }
    try {
      out.push({ index, value: (doc as { toJS(o?: object): unknown }).toJS({ maxAliasCount: 100 }), source });
    } catch (err) {
      out.push({ index, error: `invalid YAML: ${(err as Error).message}`, source });
    }
  });
  return out;
}

/** `kind: List` (and `*List`) documents carry their objects in `items`. */
function expandList(value: unknown): unknown[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items as unknown[];
  }
  return [value];
}

async function readPrevious(file: string): Promise<{ uid?: string; creationTimestamp?: string } | undefined> {
  try {
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    const first = (Array.isArray(docs) ? docs[0] : docs) as { toJS(): unknown } | undefined;
    const meta = (first?.toJS() as { metadata?: { uid?: unknown; creationTimestamp?: unknown } } | undefined)?.metadata;
    return {
      ...(typeof meta?.uid === 'string' ? { uid: meta.uid } : {}),
      ...(typeof meta?.creationTimestamp === 'string' ? { creationTimestamp: meta.creationTimestamp } : {}),
    };
  } catch {
    return undefined;
  }
}
