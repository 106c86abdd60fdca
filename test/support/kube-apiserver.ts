/**
 * A Kubernetes API server double for the faults a real API server does not produce on cue: a real HTTP
 * server (node:http on 127.0.0.1, random port) that serves list and watch of Pods and Services to the real
 * `@kubernetes/client-node` informers, and /version; everything is in memory. Everything else runs on a
 * real API server (test/support/kube-server.ts), including a dropped watch and a 410 Gone after etcd's
 * compaction (sources-kube-compaction.test.ts). Its one user: sources-kube-relist.test.ts.
 *
 * - list: `resourceVersion` in list metadata; items omit kind/apiVersion like the real server.
 * - watch (`?watch=true`, chunked JSON lines): resumes from `resourceVersion` by replaying the event log,
 *   `""`/`"0"` sends synthetic ADDED events, `allowWatchBookmarks=true` lets `sendBookmarks()` emit BOOKMARK
 *   events, `timeoutSeconds` closes the stream. A resourceVersion older than `compact()` gets an ERROR event
 *   with a 410 Status (what a real server sends) and the stream ends.
 *
 * Test hooks: `compact()` sends every open watch a 410 ERROR event now (and makes every resourceVersion so
 * far too old), `sendBookmarks()`, `failNextWatches(n, status)` answers the next n watch requests with an
 * HTTP error, `dropWatches()`, `openWatches()`, `requests` (method + path + query of each request), and
 * `put()`/`remove()` of objects directly. `kubeconfigFor(server)` builds a KubeConfig pointing at it.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
];

export type JsonObject = Record<string, unknown>;

interface StoredObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string; uid: string; resourceVersion: string; labels?: Record<string, string> };
}

interface WatchEvent {
  readonly rv: number;
  readonly def: ResourceDef;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: StoredObject;
}

interface OpenWatch {
  readonly def: ResourceDef;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
}

const EVENT_LOG_LIMIT = 20_000;

export class KubeApiServerDouble {
  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;
  private readonly store = new Map<string, Map<string, StoredObject>>(); // def key → `${ns}/${name}` → object
  private readonly events: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private rv = 100;
  private compactedRv = 0;
  private failWatches: { count: number; status: number } = { count: 0, status: 500 };
  private url_ = '';

  private constructor() {
    for (const def of RESOURCES) this.store.set(`${def.group}/${def.plural}`, new Map());
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(): Promise<KubeApiServerDouble> {
    const double = new KubeApiServerDouble();
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    const { port } = double.server.address() as AddressInfo;
    double.url_ = `http://127.0.0.1:${port}`;
    return double;
  }

  get url(): string {
    return this.url_;
  }

  /** Current resourceVersion counter (as the API server would report it). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Creates or replaces an object directly (no HTTP), emitting the watch event. Returns the stored copy. */
  put(object: JsonObject): StoredObject {
    const def = this.defForObject(object);
    const meta = (object.metadata ?? {}) as JsonObject;
    const key = `${def.namespaced ? (typeof meta.namespace === 'string' ? meta.namespace : 'default') : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
    const existing = this.bucket(def).get(key);
    return this.write(def, key, object, existing, existing === undefined ? 'ADDED' : 'MODIFIED');
  }

  /** Deletes an object directly (no HTTP). Returns whether it existed. */
  remove(plural: string, namespace: string | undefined, name: string): boolean {
    const def = RESOURCES.find((d) => d.plural === plural);
    if (def === undefined) throw new Error(`the double serves no ${plural}`);
    return this.deleteKey(def, `${def.namespaced ? (namespace ?? '') : ''}/${name}`);
  }

  /** Closes every open watch stream (or those of one resource), as a load balancer or API restart would. */
  dropWatches(plural?: string): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (plural !== undefined && w.def.plural !== plural) continue;
      this.watches.delete(w);
      w.res.destroy();
      n++;
    }
    return n;
  }

  /** Makes every resourceVersion up to now too old: resuming watches get 410 Gone; open watches get it too. */
  compact(): void {
    this.compactedRv = this.rv;
    this.events.length = 0;
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      this.writeLine(w.res, { type: 'ERROR', object: goneStatus(this.rv) });
      w.res.end();
    }
  }

  /** Answers the next `count` watch requests with HTTP `status` (e.g. 500, 403, 410). */
  failNextWatches(count: number, status = 500): void {
    this.failWatches = { count, status };
  }

  /** Sends a BOOKMARK at the current resourceVersion on every watch that asked for bookmarks. */
  sendBookmarks(): number {
    let n = 0;
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      this.writeLine(w.res, {
        type: 'BOOKMARK',
        object: { kind: w.def.kind, apiVersion: apiVersionOf(w.def), metadata: { resourceVersion: String(this.rv) } },
      });
      n++;
    }
    return n;
  }

  openWatches(plural?: string): number {
    let n = 0;
    for (const w of this.watches) if (plural === undefined || w.def.plural === plural) n++;
    return n;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------------

  private bucket(def: ResourceDef): Map<string, StoredObject> {
    return this.store.get(`${def.group}/${def.plural}`) as Map<string, StoredObject>;
  }

  private defForObject(object: JsonObject): ResourceDef {
    const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    for (const def of RESOURCES) if (def.group === group && def.kind === object.kind) return def;
    throw new Error(`no resource registered for ${apiVersion} ${String(object.kind)}`);
  }

  private write(def: ResourceDef, key: string, input: JsonObject, existing: StoredObject | undefined, type: 'ADDED' | 'MODIFIED'): StoredObject {
    const meta = { ...((input.metadata ?? {}) as JsonObject) };
    const [ns, name] = splitKey(key);
    meta.name = name;
    if (def.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    meta.uid = existing?.metadata.uid ?? (typeof meta.uid === 'string' && meta.uid !== '' ? meta.uid : randomUUID());
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? meta.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.rv++;
    meta.resourceVersion = String(this.rv);
    const stored = { ...structuredClone(input), apiVersion: apiVersionOf(def), kind: def.kind, metadata: meta } as StoredObject;
    this.bucket(def).set(key, stored);
    this.record({ rv: this.rv, def, type, object: stored });
    return structuredClone(stored);
  }

  private deleteKey(def: ResourceDef, key: string): boolean {
    const existing = this.bucket(def).get(key);
    if (existing === undefined) return false;
    this.bucket(def).delete(key);
    this.rv++;
    const tomb = structuredClone(existing);
    tomb.metadata.resourceVersion = String(this.rv);
    this.record({ rv: this.rv, def, type: 'DELETED', object: tomb });
    return true;
  }

  private record(event: WatchEvent): void {
    this.events.push(event);
    if (this.events.length > EVENT_LOG_LIMIT) {
      const dropped = this.events.splice(0, this.events.length - EVENT_LOG_LIMIT);
      this.compactedRv = Math.max(this.compactedRv, dropped[dropped.length - 1]?.rv ?? 0);
    }
    for (const w of this.watches) if (w.def === event.def) this.writeLine(w.res, { type: event.type, object: event.object });
  }

  private writeLine(res: http.ServerResponse, value: unknown): void {
    if (!res.destroyed && !res.writableEnded) res.write(`${JSON.stringify(value)}\n`);
  }

  /** GET /version, and list or watch of a served resource in all namespaces; nothing else. */
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query });
    if (method !== 'GET') return this.sendStatus(res, 405, 'MethodNotAllowed', `the double only reads (${method} ${url.pathname})`);
    if (url.pathname === '/version') return sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-weft-double', platform: 'linux/amd64' });
    const def = RESOURCES.find((d) => url.pathname === `/api/${d.version}/${d.plural}`);
    if (def === undefined) return this.sendStatus(res, 404, 'NotFound', `the double does not serve ${url.pathname}`);
    if (query.watch === 'true' || query.watch === '1') return this.watch(req, res, def, query);
    return this.list(res, def);
  }

  private list(res: http.ServerResponse, def: ResourceDef): void {
    const items = [...this.bucket(def).values()].map((o) => {
      const { kind: _k, apiVersion: _a, ...rest } = o; // the real server omits these on list items
      return rest;
    });
    sendJson(res, 200, { apiVersion: apiVersionOf(def), kind: `${def.kind}List`, metadata: { resourceVersion: String(this.rv) }, items });
  }

  private watch(req: http.IncomingMessage, res: http.ServerResponse, def: ResourceDef, query: Record<string, string>): void {
    if (this.failWatches.count > 0) {
      this.failWatches.count--;
      const status = this.failWatches.status;
      return this.sendStatus(res, status, status === 410 ? 'Expired' : 'InternalError', `injected watch failure ${status}`);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const from = query.resourceVersion ?? '';
    if (from === '' || from === '0') {
      for (const o of this.bucket(def).values()) this.writeLine(res, { type: 'ADDED', object: o });
    } else {
      const rv = Number(from);
      if (!Number.isFinite(rv) || rv < this.compactedRv) {
        this.writeLine(res, { type: 'ERROR', object: goneStatus(this.rv) });
        res.end();
        return;
      }
      for (const e of this.events) if (e.rv > rv && e.def === def) this.writeLine(res, { type: e.type, object: e.object });
    }
    const w: OpenWatch = { def, bookmarks: query.allowWatchBookmarks === 'true', res };
    this.watches.add(w);
    const timeout = Number(query.timeoutSeconds ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const done = (): void => {
      this.watches.delete(w);
      if (timer !== undefined) clearTimeout(timer);
    };
    res.on('close', done);
    req.on('close', done);
  }

  private sendStatus(res: http.ServerResponse, code: number, reason: string, message: string, details?: JsonObject): void {
    sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
  }
}

/** A KubeConfig whose current context points at the double (no auth, plain HTTP). */
export function kubeconfigFor(server: { url: string }, options: { namespace?: string; token?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'double', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'double', ...(options.token === undefined ? {} : { token: options.token }) }],
    contexts: [{ name: 'double', cluster: 'double', user: 'double', namespace: options.namespace ?? 'default' }],
    currentContext: 'double',
  });
  return kc;
}

// ---------------------------------------------------------------------------------------------------

function apiVersionOf(def: ResourceDef): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function goneStatus(rv: number): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version (current ${rv})`, reason: 'Expired', code: 410 };
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
