import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WeftError } from '../../lib/errors/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import { failClosedPolicy } from './authz-fail-closed.js';
import { expandList, hashOf, parseDocuments, stampOf } from './manifest-files.js';
import { KIND_INFO, isObjectKind, objectKey, refOf, validateObject, validateStatus } from './schemas.js';
import type { InvalidInfo, KubeObject, ObjectKind, ObjectRef, SourceChange } from './source.js';

export const STATUS_DIR = 'status';
/** Files larger than this are reported and skipped rather than parsed. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_REPORTED = 20_000;

/**
 * One document that defines an object, as kept between scans. Valid documents keep only their validated
 * object — the same instance the state serves when no status file applies — not the raw parse or the
 * text (bench/control-scale: three copies of 10 000 pods cost ~30 MB of heap).
 */
type Doc =
  | { readonly ok: true; readonly where: string; readonly hash: string; readonly object: KubeObject }
  | {
      readonly ok: false;
      readonly where: string;
      readonly hash: string;
      readonly ref: Partial<ObjectRef>;
      readonly reason: string;
      readonly raw: unknown;
      /** An AuthorizationPolicy's fail-closed stand-in (authz-fail-closed.ts), served in its place. */
      readonly substitute?: KubeObject;
    };

interface StatusDoc {
  readonly status: unknown;
  readonly hash: string;
}

interface FileEntry {
  /** stampOf() of the file when read, to skip rereading unchanged files. */
  readonly stamp: string;
  /** Objects this file defines, by object key (`Kind/ns/name`). */
  readonly objects: Map<string, Doc>;
  /** Status documents this file carries (only under status/), by object key. */
  readonly statuses: Map<string, StatusDoc>;
}

interface Current {
  readonly object: KubeObject;
  /** Hashes of the inputs (object document + status document) it was built from. */
  readonly fingerprint: string;
}

export interface FileObjectTableOptions {
  readonly dir: string;
  readonly defaultNamespace: string;
  readonly log: Logger;
  /** stat() that counts its calls (the source's counters). */
  readonly statOf: (p: string) => Promise<Stats | undefined>;
  /** Counts the files read and parsed. */
  readonly onRead: () => void;
  /** An invalid document, reported once per (place, content). */
  readonly onInvalid: (info: InvalidInfo) => void;
}

/**
 * The directory source's file table: what each manifest file defines (objects, or status documents under
 * status/), and the objects served from it. Duplicate definitions: the last path in sort order wins. A
 * status file replaces the status of the object it names. Changes are computed per object key from the
 * hashes of its inputs, so rereading an unchanged document emits nothing. Callers serialise `apply`.
 */
export class FileObjectTable {
  private readonly files = new Map<string, FileEntry>();
  private readonly current = new Map<string, Current>(); // object key → object
  /** Object key → files defining it / carrying its status. */
  private readonly objectFiles = new Map<string, Set<string>>();
  private readonly statusFiles = new Map<string, Set<string>>();
  private readonly byKind = new Map<ObjectKind, Map<string, KubeObject>>();
  private readonly reported = new Set<string>();
  /** Object key → why it is skipped (objects that parsed and have a kind and name). */
  private readonly invalid = new Map<string, InvalidInfo>();

  constructor(private readonly options: FileObjectTableOptions) {
    for (const kind of Object.keys(KIND_INFO) as ObjectKind[]) this.byKind.set(kind, new Map());
  }

  get objectCount(): number {
    return this.current.size;
  }

  get fileCount(): number {
    return this.files.size;
  }

  hasFile(file: string): boolean {
    return this.files.has(file);
  }

  filePaths(): IterableIterator<string> {
    return this.files.keys();
  }

  keyOf(kind: string, namespace: string | undefined, name: string): string {
    const namespaced = isObjectKind(kind) ? KIND_INFO[kind].namespaced : true;
    return `${kind}/${objectKey(namespaced ? (namespace ?? this.options.defaultNamespace) : undefined, name)}`;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.current.get(this.keyOf(ref.kind, ref.namespace, ref.name))?.object;
  }

  list(kind: ObjectKind): readonly KubeObject[] {
    return [...(this.byKind.get(kind)?.values() ?? [])];
  }

  invalidObjects(): readonly InvalidInfo[] {
    return [...this.invalid.values()];
  }

  /**
   * Rereads the files whose stamp changed, drops the `gone` ones, recomputes the objects they touch and
   * returns the changes.
   */
  async apply(seenFiles: ReadonlyMap<string, string>, gone: ReadonlySet<string>): Promise<SourceChange[]> {
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
      const entry = await this.load(file, old);
      if (entry === undefined) {
        // Vanished since it was listed: drop what it defined (an event for it may also be on its way).
        if (old !== undefined) {
          this.unindex(file, old, touched);
          this.files.delete(file);
        }
        continue;
      }
      if (entry === old) continue;
      if (old !== undefined) this.unindex(file, old, touched);
      this.files.set(file, entry);
      this.index(file, entry, touched);
    }
    return touched.size === 0 ? [] : this.recompute(touched);
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

  /**
   * Reads and parses one file; `old` is its previous entry, whose documents are reused when their text is
   * unchanged (no revalidation, one object instance). Undefined when the file is gone.
   */
  private async load(file: string, old: FileEntry | undefined): Promise<FileEntry | undefined> {
    const { dir, defaultNamespace } = this.options;
    const rel = path.relative(dir, file);
    const isStatus = rel.split(path.sep)[0] === STATUS_DIR;
    let text: string;
    const s = await this.options.statOf(file);
    if (s?.isFile() !== true) return undefined;
    const stamp = stampOf(s);
    if (old?.stamp === stamp) return old;
    const entry: FileEntry = { stamp, objects: new Map(), statuses: new Map() };
    if (s.size > MAX_FILE_BYTES) {
      this.report(rel, `size:${stamp}`, {}, `file is ${s.size} bytes, larger than the ${MAX_FILE_BYTES}-byte limit`);
      return entry;
    }
    try {
      this.options.onRead();
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
      const hash = hashOf(source);
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
        // A List's items share their document's text: the key tells them apart.
        const itemHash = value === item ? hash : `${hash}:${key}`;
        if (isStatus) {
          const previous = old?.statuses.get(key);
          entry.statuses.set(key, previous?.hash === itemHash ? previous : { status: raw.status, hash: itemHash });
          continue;
        }
        const previous = old?.objects.get(key);
        if (previous?.hash === itemHash && previous.where === where) {
          entry.objects.set(key, previous);
          continue;
        }
        const v = validateObject(raw, { defaultNamespace });
        if (v.ok) entry.objects.set(key, { ok: true, where, hash: itemHash, object: v.object });
        else {
          const substitute = kind === 'AuthorizationPolicy' ? failClosedPolicy(raw, v.reason, defaultNamespace) : undefined;
          entry.objects.set(key, { ok: false, where, hash: itemHash, ref: v.ref, reason: v.reason, raw, ...(substitute ? { substitute } : {}) });
        }
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
      const status = statusFile === undefined ? undefined : this.files.get(statusFile)?.statuses.get(key);
      const before = this.current.get(key);
      const next = doc === undefined ? undefined : this.build(key, doc, status);
      if (doc === undefined || doc.ok) this.invalid.delete(key);
      if (next === undefined) {
        if (before !== undefined) {
          this.current.delete(key);
          this.byKind.get(before.object.kind)?.delete(key);
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

  private build(key: string, doc: Doc, status: StatusDoc | undefined): Current | undefined {
    const fingerprint = status === undefined ? doc.hash : `${doc.hash}\u0000${status.hash}`;
    const before = this.current.get(key);
    if (before?.fingerprint === fingerprint) return before;
    let object: KubeObject;
    if (doc.ok) object = doc.object;
    else {
      this.invalid.set(key, { ref: doc.ref, file: path.join(this.options.dir, doc.where.split('#')[0] ?? ''), reason: doc.reason, object: doc.raw });
      this.report(doc.where, doc.hash, doc.ref, doc.reason, doc.raw);
      if (doc.substitute === undefined) return undefined;
      object = doc.substitute;
    }
    if (status === undefined) return { object, fingerprint };
    // The status file replaces the object's status; metadata and spec stay shared with the document's object.
    const checked = validateStatus(object.kind, status.status);
    if (checked.ok) return { object: { ...object, status: checked.status }, fingerprint };
    this.report(`${STATUS_DIR}/${key}`, status.hash, refOf(object), `status does not validate (${checked.reason}); using the object without it`);
    return { object, fingerprint };
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
    this.options.log.warn({ code: err.code, file: where }, err.message);
    const file = where.split('#')[0];
    const info: InvalidInfo = { ref, file: path.join(this.options.dir, file), reason };
    if (object !== undefined) info.object = object;
    this.options.onInvalid(info);
  }
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
