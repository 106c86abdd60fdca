/**
 * A Kubernetes API server double for tests: a real HTTP server (node:http on 127.0.0.1, random port) that
 * speaks enough of the Kubernetes REST API for the real `@kubernetes/client-node` (informers/ListWatch,
 * Watch, CoreV1Api & co., KubernetesObjectApi) and for weft's own requests. No Kubernetes semantics beyond
 * what is listed here; everything is in memory.
 *
 * Only for what a real API server cannot do on cue: the control plane's tests run on a real one
 * (test/support/kube-server.ts) and use this double only to inject faults (sources-kube-relist.test.ts: a
 * watch dropped or failing at a chosen moment, a 410 Gone on resume, bookmarks on demand). The CLI's tests
 * (test/cli) still seed cluster states with it that a real server would need controllers and kubelets for.
 *
 * What it serves
 * - Generic storage for any registered resource (`register({group, version, plural, kind, namespaced})`;
 *   `DEFAULT_RESOURCES` covers core/apps/discovery/coordination/gateway/weft kinds, Secrets, ConfigMaps,
 *   Nodes, CRDs). Paths: `/api/v1/...`, `/apis/<group>/<version>/...`, namespaced (`namespaces/<ns>/<plural>`)
 *   and all-namespaces lists.
 * - list (`resourceVersion` in list metadata, `labelSelector` with =,==,!=,in,notin,exists,!key,
 *   `fieldSelector` on metadata.name / metadata.namespace). Items omit kind/apiVersion like the real server.
 * - watch (`?watch=true`, chunked JSON lines): resumes from `resourceVersion` by replaying the event log,
 *   `""`/`"0"` sends synthetic ADDED events, `allowWatchBookmarks=true` lets `sendBookmarks()` emit BOOKMARK
 *   events, `timeoutSeconds` closes the stream. A resourceVersion older than `compact()` gets an ERROR event
 *   with a 410 Status (what a real server sends) and the stream ends.
 * - get, create (409 AlreadyExists), update/PUT (409 Conflict on a stale resourceVersion), patch:
 *   merge-patch, strategic-merge-patch (treated as merge-patch), json-patch (add/remove/replace/test) and
 *   apply-patch+yaml (server-side apply,
 *   simplified: create if absent, else deep merge with arrays replaced; needs `fieldManager`; no
 *   managedFields), delete (no cascading: no garbage collector), and the
 *   `/status` subresource (writes to the object ignore `status`; writes to `/status` change only `status`).
 * - `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>` discovery derived from the registry.
 *
 * Test hooks: `dropWatches()` closes open watch streams (the client must reconnect), `compact()` makes every
 * resourceVersion so far "too old" (410 on resume), `failNextWatches(n, status)` answers the next n watch
 * requests with an HTTP error, `sendBookmarks()`, `requests` (a log of method + path + query),
 * direct `put()`/`remove()` bypassing HTTP. `kubeconfigFor(server)` builds a KubeConfig pointing at it.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Whether `/status` is a subresource (default true for kinds that usually have one). */
  statusSubresource?: boolean;
}

const DEFAULT_RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, statusSubresource: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, statusSubresource: true },
  { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true, statusSubresource: true },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, statusSubresource: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true, statusSubresource: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false, statusSubresource: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true, statusSubresource: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'grpcroutes', kind: 'GRPCRoute', namespaced: true, statusSubresource: true },
  { group: 'gateway.networking.k8s.io', version: 'v1beta1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
  { group: 'security.weft.dev', version: 'v1alpha1', plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true, statusSubresource: true },
  { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, statusSubresource: true },
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
  readonly namespace: string | undefined;
  readonly filter: (o: StoredObject) => boolean;
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
  private readonly defs = new Map<string, ResourceDef>(); // `${group}/${plural}`
  private readonly store = new Map<string, Map<string, StoredObject>>(); // def key → `${ns}/${name}` → object
  private readonly events: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private rv = 100;
  private compactedRv = 0;
  private failWatches: { count: number; status: number } = { count: 0, status: 500 };
  private url_ = '';

  private constructor(resources: readonly ResourceDef[]) {
    for (const def of resources) this.register(def);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendStatus(res, 500, 'InternalError', String(err));
        else res.destroy();
      });
    });
  }

  /** `resources`: what it serves (default DEFAULT_RESOURCES; fewer to see a client without some API). */
  static async start(options: { resources?: readonly ResourceDef[] } = {}): Promise<KubeApiServerDouble> {
    const double = new KubeApiServerDouble(options.resources ?? DEFAULT_RESOURCES);
    await new Promise<void>((resolve) => double.server.listen(0, '127.0.0.1', resolve));
    const { port } = double.server.address() as AddressInfo;
    double.url_ = `http://127.0.0.1:${port}`;
    return double;
  }

  get url(): string {
    return this.url_;
  }

  register(def: ResourceDef): void {
    const key = `${def.group}/${def.plural}`;
    this.defs.set(key, def);
    if (!this.store.has(key)) this.store.set(key, new Map());
  }

  /** Current resourceVersion counter (as the API server would report it). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  getObject(plural: string, namespace: string | undefined, name: string, group = ''): StoredObject | undefined {
    const o = this.store.get(`${group}/${plural}`)?.get(`${namespace ?? ''}/${name}`);
    return o === undefined ? undefined : structuredClone(o);
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
  remove(plural: string, namespace: string | undefined, name: string, group = ''): boolean {
    const def = this.defs.get(`${group}/${plural}`);
    if (def === undefined) throw new Error(`unregistered resource ${group}/${plural}`);
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
    for (const def of this.defs.values()) if (def.group === group && def.kind === object.kind) return def;
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
    const oldGen = typeof existing?.metadata.generation === 'number' ? existing.metadata.generation : 0;
    const specChanged = existing === undefined || JSON.stringify(existing.spec) !== JSON.stringify(input.spec);
    meta.generation = specChanged ? oldGen + 1 : oldGen;
    this.rv++;
    meta.resourceVersion = String(this.rv);
    const stored = { ...structuredClone(input), apiVersion: apiVersionOf(def), kind: def.kind, metadata: meta } as StoredObject;
    if (def.kind === 'Secret' && typeof stored.stringData === 'object' && stored.stringData !== null) {
      // As the real API server: stringData is write-only and lands base64-encoded in data.
      const data = { ...((stored.data ?? {}) as Record<string, string>) };
      for (const [k, v] of Object.entries(stored.stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString('base64');
      stored.data = data;
      delete stored.stringData;
    }
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
    for (const w of this.watches) {
      if (w.def !== event.def) continue;
      if (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace) continue;
      if (!w.filter(event.object)) continue;
      this.writeLine(w.res, { type: event.type, object: event.object });
    }
  }

  private writeLine(res: http.ServerResponse, value: unknown): void {
    if (!res.destroyed && !res.writableEnded) res.write(`${JSON.stringify(value)}\n`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query });
    const body = await readBody(req);
    const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);

    if (url.pathname === '/version') return sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-weft-double', platform: 'linux/amd64' });
    if (url.pathname === '/api') return sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (url.pathname === '/apis') return sendJson(res, 200, this.groupList());
    if (segs[0] === 'api' && segs.length === 2) return sendJson(res, 200, this.resourceList('', segs[1]));
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = this.groupList().groups.find((x) => x.name === segs[1]);
      return g === undefined ? this.sendStatus(res, 404, 'NotFound', 'group not found') : sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
    }
    if (segs[0] === 'apis' && segs.length === 3) return sendJson(res, 200, this.resourceList(segs[1], segs[2]));

    let group: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      group = '';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 4) {
      group = segs[1];
      rest = segs.slice(3);
    } else {
      return this.sendStatus(res, 404, 'NotFound', `no route for ${url.pathname}`);
    }


    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && this.defs.get(`${group}/${rest[2]}`)?.namespaced === true) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const def = this.defs.get(`${group}/${rest[0] ?? ''}`);
    if (def === undefined) return this.sendStatus(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const name = rest[1];
    const sub = rest[2];
    if (sub !== undefined && sub !== 'status') return this.sendStatus(res, 404, 'NotFound', `subresource ${sub} not supported`);
    if (def.namespaced && name !== undefined && namespace === undefined) return this.sendStatus(res, 404, 'NotFound', 'namespace required');

    if (name === undefined) {
      if (method === 'GET' && (query.watch === 'true' || query.watch === '1')) return this.watch(req, res, def, namespace, query);
      if (method === 'GET') return this.list(res, def, namespace, query);
      if (method === 'POST') return this.create(res, def, namespace, body, query);
      return this.sendStatus(res, 405, 'MethodNotAllowed', `${method} not allowed on a collection`);
    }
    const key = `${def.namespaced ? (namespace as string) : ''}/${name}`;
    const existing = this.bucket(def).get(key);
    const statusOnly = sub === 'status';
    switch (method) {
      case 'GET':
        return existing === undefined ? this.notFound(res, def, name) : sendJson(res, 200, existing);
      case 'DELETE':
        if (existing === undefined) return this.notFound(res, def, name);
        this.deleteKey(def, key);
        return sendJson(res, 200, existing);
      case 'PUT': {
        if (existing === undefined) return this.notFound(res, def, name);
        const input = parseJson(body);
        if (input === undefined) return this.sendStatus(res, 400, 'BadRequest', 'body is not a JSON object');
        const wantRv = (input.metadata as JsonObject | undefined)?.resourceVersion;
        if (typeof wantRv === 'string' && wantRv !== '' && wantRv !== existing.metadata.resourceVersion) {
          return this.sendStatus(res, 409, 'Conflict', `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        return sendJson(res, 200, this.write(def, key, this.scoped(def, existing, input, statusOnly), existing, 'MODIFIED'));
      }
      case 'PATCH':
        return this.patch(req, res, def, key, name, existing, body, query, statusOnly);
      default:
        return this.sendStatus(res, 405, 'MethodNotAllowed', `${method} not allowed`);
    }
  }

  /** Applies subresource rules: object writes keep the stored status, status writes change only status. */
  private scoped(def: ResourceDef, existing: StoredObject, input: JsonObject, statusOnly: boolean): JsonObject {
    if (statusOnly) return { ...existing, status: input.status };
    if (def.statusSubresource === true) {
      const out: JsonObject = { ...input };
      if (existing.status === undefined) delete out.status;
      else out.status = existing.status;
      return out;
    }
    return input;
  }

  private patch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    def: ResourceDef,
    key: string,
    name: string,
    existing: StoredObject | undefined,
    body: string,
    query: Record<string, string>,
    statusOnly: boolean,
  ): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type === 'application/apply-patch+yaml') {
      if (query.fieldManager === undefined || query.fieldManager === '') {
        return this.sendStatus(res, 400, 'BadRequest', 'PATCH with apply-patch+yaml requires fieldManager');
      }
      let input: unknown;
      try {
        input = parseYaml(body);
      } catch (err) {
        return this.sendStatus(res, 400, 'BadRequest', `invalid YAML: ${String(err)}`);
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return this.sendStatus(res, 400, 'BadRequest', 'apply body must be an object');
      const obj = input as JsonObject;
      const meta = (obj.metadata ?? {}) as JsonObject;
      if (obj.kind !== def.kind || meta.name !== name) return this.sendStatus(res, 400, 'BadRequest', 'kind/name in body do not match the URL');
      if (existing === undefined) {
        if (statusOnly) return this.notFound(res, def, name);
        const created = this.write(def, key, obj, undefined, 'ADDED');
        return sendJson(res, 201, created);
      }
      const merged = deepMerge(existing, obj, false) as JsonObject;
      return sendJson(res, 200, this.write(def, key, this.scoped(def, existing, merged, statusOnly), existing, 'MODIFIED'));
    }
    if (type === 'application/json-patch+json') {
      if (existing === undefined) return this.notFound(res, def, name);
      let ops: unknown;
      try {
        ops = JSON.parse(body);
      } catch {
        return this.sendStatus(res, 400, 'BadRequest', 'json-patch body is not JSON');
      }
      const patched = applyJsonPatch(existing, ops);
      if (typeof patched === 'string') return this.sendStatus(res, 422, 'Invalid', patched);
      return sendJson(res, 200, this.write(def, key, this.scoped(def, existing, patched, statusOnly), existing, 'MODIFIED'));
    }
    if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
      return this.sendStatus(res, 415, 'UnsupportedMediaType', `patch type ${type ?? ''} not supported by the double`);
    }
    if (existing === undefined) return this.notFound(res, def, name);
    const patch = parseJson(body);
    if (patch === undefined) return this.sendStatus(res, 400, 'BadRequest', 'patch is not a JSON object');
    const merged = deepMerge(existing, patch, true) as JsonObject;
    return sendJson(res, 200, this.write(def, key, this.scoped(def, existing, merged, statusOnly), existing, 'MODIFIED'));
  }

  private create(res: http.ServerResponse, def: ResourceDef, namespace: string | undefined, body: string, query: Record<string, string>): void {
    const input = parseJson(body);
    if (input === undefined) return this.sendStatus(res, 400, 'BadRequest', 'body is not a JSON object');
    const meta = (input.metadata ?? {}) as JsonObject;
    let name = meta.name;
    if ((name === undefined || name === '') && typeof meta.generateName === 'string') name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (typeof name !== 'string' || name === '') return this.sendStatus(res, 422, 'Invalid', 'metadata.name: Required value');
    const ns = def.namespaced ? (namespace ?? (typeof meta.namespace === 'string' ? meta.namespace : 'default')) : '';
    const key = `${ns}/${name}`;
    if (this.bucket(def).has(key)) {
      return this.sendStatus(res, 409, 'AlreadyExists', `${def.plural} "${name}" already exists`, { name, kind: def.plural });
    }
    if (query.dryRun === 'All') return sendJson(res, 201, input);
    const stored = this.write(def, key, { ...input, metadata: { ...meta, name } }, undefined, 'ADDED');
    sendJson(res, 201, stored);
  }

  private list(res: http.ServerResponse, def: ResourceDef, namespace: string | undefined, query: Record<string, string>): void {
    const filter = makeFilter(query);
    if (filter === undefined) return this.sendStatus(res, 400, 'BadRequest', 'unparsable selector');
    const items = [...this.bucket(def).values()]
      .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && filter(o))
      .map((o) => {
        const { kind: _k, apiVersion: _a, ...rest } = o; // the real server omits these on list items
        return rest;
      });
    sendJson(res, 200, { apiVersion: apiVersionOf(def), kind: `${def.kind}List`, metadata: { resourceVersion: String(this.rv) }, items });
  }

  private watch(req: http.IncomingMessage, res: http.ServerResponse, def: ResourceDef, namespace: string | undefined, query: Record<string, string>): void {
    if (this.failWatches.count > 0) {
      this.failWatches.count--;
      const status = this.failWatches.status;
      return this.sendStatus(res, status, status === 410 ? 'Expired' : 'InternalError', `injected watch failure ${status}`);
    }
    const filter = makeFilter(query);
    if (filter === undefined) return this.sendStatus(res, 400, 'BadRequest', 'unparsable selector');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const inScope = (o: StoredObject): boolean => (namespace === undefined || o.metadata.namespace === namespace) && filter(o);
    const from = query.resourceVersion ?? '';
    if (from === '' || from === '0') {
      for (const o of this.bucket(def).values()) if (inScope(o)) this.writeLine(res, { type: 'ADDED', object: o });
    } else {
      const rv = Number(from);
      if (!Number.isFinite(rv) || rv < this.compactedRv) {
        this.writeLine(res, { type: 'ERROR', object: goneStatus(this.rv) });
        res.end();
        return;
      }
      for (const e of this.events) if (e.rv > rv && e.def === def && inScope(e.object)) this.writeLine(res, { type: e.type, object: e.object });
    }
    const w: OpenWatch = { def, namespace, filter, bookmarks: query.allowWatchBookmarks === 'true', res };
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

  private groupList(): { kind: string; apiVersion: string; groups: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } }[] } {
    const groups = new Map<string, Set<string>>();
    for (const d of this.defs.values()) {
      if (d.group === '') continue;
      if (!groups.has(d.group)) groups.set(d.group, new Set());
      groups.get(d.group)?.add(d.version);
    }
    groups.set('authentication.k8s.io', new Set(['v1']));
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => {
        const vs = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions: vs, preferredVersion: vs[0] };
      }),
    };
  }

  private resourceList(group: string, version: string): JsonObject {
    const resources: JsonObject[] = [];
    for (const d of this.defs.values()) {
      if (d.group !== group || d.version !== version) continue;
      resources.push({
        name: d.plural,
        singularName: d.kind.toLowerCase(),
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      });
      if (d.statusSubresource === true) resources.push({ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] });
    }
    if (group === 'authentication.k8s.io') resources.push({ name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview', verbs: ['create'] });
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
  }

  private notFound(res: http.ServerResponse, def: ResourceDef, name: string): void {
    this.sendStatus(res, 404, 'NotFound', `${def.plural}${def.group === '' ? '' : `.${def.group}`} "${name}" not found`, { name, kind: def.plural });
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

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 8 * 1024 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(body: string): JsonObject | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 7386 merge patch (`nullDeletes`) or the simplified apply merge (nulls kept, arrays replaced). */
function deepMerge(target: unknown, patch: unknown, nullDeletes: boolean): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: JsonObject = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as JsonObject) } : {};
  for (const [k, v] of Object.entries(patch as JsonObject)) {
    if (v === null && nullDeletes) delete out[k];
    else out[k] = deepMerge(out[k], v, nullDeletes);
  }
  return out;
}

/** RFC 6902 add/remove/replace/test on a copy; returns the patched object or an error message. */
function applyJsonPatch(target: JsonObject, ops: unknown): JsonObject | string {
  if (!Array.isArray(ops)) return 'json-patch must be an array';
  const doc = structuredClone(target);
  for (const raw of ops as { op?: unknown; path?: unknown; value?: unknown }[]) {
    if (typeof raw.path !== 'string' || !raw.path.startsWith('/')) return `bad path ${String(raw.path)}`;
    const parts = raw.path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let parent: unknown = doc;
    for (const p of parts) {
      parent = Array.isArray(parent) ? parent[Number(p)] : (parent as JsonObject | undefined)?.[p];
      if (typeof parent !== 'object' || parent === null) return `path ${raw.path} does not exist`;
    }
    const container = parent as JsonObject | unknown[];
    switch (raw.op) {
      case 'add':
      case 'replace':
        if (Array.isArray(container)) {
          const i = last === '-' ? container.length : Number(last);
          if (raw.op === 'add') container.splice(i, 0, raw.value);
          else container[i] = raw.value;
        } else container[last] = raw.value;
        break;
      case 'remove':
        if (Array.isArray(container)) container.splice(Number(last), 1);
        else if (last in container) delete container[last];
        else return `path ${raw.path} does not exist`;
        break;
      case 'test': {
        const v = Array.isArray(container) ? container[Number(last)] : container[last];
        if (JSON.stringify(v) !== JSON.stringify(raw.value)) return `test failed at ${raw.path}`;
        break;
      }
      default:
        return `op ${String(raw.op)} not supported by the double`;
    }
  }
  return doc;
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses labelSelector/fieldSelector into one predicate; undefined when unparsable. */
function makeFilter(query: Record<string, string>): ((o: StoredObject) => boolean) | undefined {
  const labelReqs = parseSelector(query.labelSelector ?? '');
  const fieldReqs = parseSelector(query.fieldSelector ?? '');
  if (labelReqs === undefined || fieldReqs === undefined) return undefined;
  return (o) => {
    const labels = o.metadata.labels ?? {};
    const fields: Record<string, string> = { 'metadata.name': o.metadata.name };
    if (o.metadata.namespace !== undefined) fields['metadata.namespace'] = o.metadata.namespace;
    return labelReqs.every((r) => r(labels)) && fieldReqs.every((r) => r(fields));
  };
}

function parseSelector(selector: string): Requirement[] | undefined {
  const reqs: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p)) !== null) {
      const key = m[1];
      const values = (m[3]).split(',').map((v) => v.trim());
      const notIn = m[2] === 'notin';
      reqs.push((l) => (notIn ? !(key in l) || !values.includes(l[key]) : key in l && values.includes(l[key])));
    } else if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(p)) !== null) {
      const [, key, value] = m as unknown as [string, string, string];
      reqs.push((l) => l[key] !== value);
    } else if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(p)) !== null) {
      const [, key, value] = m as unknown as [string, string, string];
      reqs.push((l) => l[key] === value);
    } else if ((m = /^!([^\s!=]+)$/.exec(p)) !== null) {
      const key = m[1];
      reqs.push((l) => !(key in l));
    } else if ((m = /^([^\s!=()]+)$/.exec(p)) !== null) {
      const key = m[1];
      reqs.push((l) => key in l);
    } else {
      return undefined;
    }
  }
  return reqs;
}

export { eventually } from './eventually.js';
