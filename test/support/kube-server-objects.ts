import type { KubeConfig } from '@kubernetes/client-node';
import { collectionPath } from '../../control/sources/kube-api.js';
import { KubeRest } from '../../control/sources/kube-rest.js';
import { KIND_INFO, isObjectKind } from '../../control/sources/schemas.js';

/**
 * A test's hands on the real API server (kube-server.ts): write objects as a user would (server-side apply,
 * field manager `weft-test`), read them back, remove them, mint ServiceAccount tokens, and reset the
 * cluster between tests. Objects are plain JSON, as a manifest would have them.
 */
export type JsonObject = Record<string, unknown>;
export interface StoredObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; labels?: Record<string, string>; [k: string]: unknown };
  spec?: JsonObject;
  status?: JsonObject;
  data?: Record<string, string>;
}

interface KindPath {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Kinds tests write besides weft's own (KIND_INFO). */
const OTHER_KINDS: Readonly<Record<string, KindPath>> = {
  Secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  Event: { group: '', version: 'v1', plural: 'events', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  Node: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  ClusterRole: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false },
  ValidatingAdmissionPolicy: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', namespaced: false },
  ValidatingAdmissionPolicyBinding: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings', namespaced: false },
};

/** Namespaces the API server makes for itself: never removed by reset(). */
const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
/** Labels what reset() removes of the cluster-scoped RBAC kinds (the server's own roles stay). */
export const TEST_LABEL = 'weft.dev/test-object';
const MANAGER = 'weft-test';

function kindPath(kind: string): KindPath {
  const k = isObjectKind(kind) ? KIND_INFO[kind] : OTHER_KINDS[kind];
  if (k === undefined) throw new Error(`kube-server-objects: no path for kind ${kind}; add it to OTHER_KINDS`);
  return k;
}

function objectUrl(kind: string, namespace: string | undefined, name: string): string {
  const k = kindPath(kind);
  return `${collectionPath(k, k.namespaced ? (namespace ?? 'default') : undefined)}/${encodeURIComponent(name)}`;
}

export class KubeObjects {
  readonly rest: KubeRest;

  constructor(kc: KubeConfig) {
    this.rest = new KubeRest(kc);
  }

  /**
   * Server-side apply as `weft-test` (force; any uid or resourceVersion in `object` is dropped), and its `status` through the /status subresource: fields the
   * manager set before and the object no longer has go, as with `kubectl apply --server-side`. A namespaced
   * object's namespace and a Pod's ServiceAccount are created first if missing (the real server refuses
   * objects in a namespace that does not exist, and pods whose ServiceAccount does not).
   */
  async put(object: JsonObject): Promise<StoredObject> {
    const o = object as StoredObject;
    const { status, ...rest } = o;
    const namespace = kindPath(o.kind).namespaced ? (o.metadata.namespace ?? 'default') : undefined;
    if (namespace !== undefined) await this.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    if (o.kind === 'Pod') {
      const sa = ((o.spec ?? {}) as { serviceAccountName?: string }).serviceAccountName ?? 'default';
      await this.ensure({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace } });
    }
    const url = objectUrl(o.kind, namespace, o.metadata.name);
    // The server makes uids and resourceVersions: a manifest's own would be preconditions that fail.
    const { uid: _uid, resourceVersion: _rv, ...metadata } = o.metadata;
    const body = { ...rest, metadata: { ...metadata, ...(namespace ? { namespace } : {}) } };
    let stored = await this.apply(url, body);
    if (status !== undefined) stored = await this.apply(`${url}/status`, { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace }, status });
    return stored;
  }

  /**
   * Replaces the object (PUT, as `kubectl replace`): what fixes an object stored under a looser schema,
   * which server-side apply refuses to merge into (its managed fields do not fit the schema: a 500).
   */
  async replace(object: JsonObject): Promise<StoredObject> {
    const o = object as StoredObject;
    const current = await this.get(o.kind, o.metadata.namespace, o.metadata.name);
    if (current === undefined) return this.put(object);
    const { uid: _uid, resourceVersion: _rv, ...metadata } = o.metadata;
    const body = { ...o, metadata: { ...metadata, resourceVersion: current.metadata.resourceVersion } };
    return (await this.rest.expect<StoredObject>('PUT', objectUrl(o.kind, current.metadata.namespace, o.metadata.name), { query: { fieldManager: MANAGER }, body })).body!;
  }

  /** Server-side applies only `status` (the /status subresource), as a controller reporting on the object does. */
  async setStatus(kind: string, namespace: string | undefined, name: string, status: JsonObject): Promise<StoredObject> {
    const k = kindPath(kind);
    const apiVersion = k.group === '' ? k.version : `${k.group}/${k.version}`;
    return this.apply(`${objectUrl(kind, namespace, name)}/status`, { apiVersion, kind, metadata: { name, ...(k.namespaced ? { namespace } : {}) }, status });
  }

  /** The object as the server has it, or undefined. */
  async get(kind: string, namespace: string | undefined, name: string): Promise<StoredObject | undefined> {
    const res = await this.rest.expect<StoredObject>('GET', objectUrl(kind, namespace, name), { allow: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  async list(kind: string, namespace?: string): Promise<StoredObject[]> {
    const res = await this.rest.expect<{ items: StoredObject[] }>('GET', collectionPath(kindPath(kind), namespace));
    return res.body?.items ?? [];
  }

  /** Deletes at once (a Pod too: no kubelet here confirms a graceful delete); false when it was not there. */
  async remove(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    const res = await this.rest.expect('DELETE', objectUrl(kind, namespace, name), { query: { gracePeriodSeconds: '0' }, allow: [404] });
    return res.status !== 404;
  }

  /** A ServiceAccount token by TokenRequest (the ServiceAccount is created if missing), optionally bound to a pod. */
  async tokenFor(namespace: string, serviceAccount: string, o: { audiences?: string[]; pod?: { name: string; uid: string }; expirationSeconds?: number } = {}): Promise<string> {
    await this.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await this.ensure({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } });
    const spec = {
      audiences: o.audiences ?? [],
      expirationSeconds: o.expirationSeconds ?? 3600,
      ...(o.pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: o.pod.name, uid: o.pod.uid } } : {}),
    };
    const res = await this.rest.expect<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
    });
    return res.body!.status.token;
  }

  /**
   * Removes what tests made: every namespaced object of weft's kinds and the others above in `default`
   * and every namespace the server did not make itself (its own `kubernetes` Service stays), every namespace but the server's own (no
   * namespace controller runs here: its finalizer is cleared, and a second delete removes it at once), GatewayClasses,
   * Nodes, and cluster RBAC objects labelled TEST_LABEL.
   */
  async reset(): Promise<void> {
    // The server's own namespaces keep what it keeps there (kube-system's ConfigMaps); tests write to `default` too.
    const mine = (ns: string | undefined): boolean => ns === 'default' || !SYSTEM_NAMESPACES.has(ns ?? '');
    const namespaces = (await this.list('Namespace')).map((n) => n.metadata.name).filter(mine);
    const namespacedKinds = [...Object.keys(KIND_INFO), ...Object.keys(OTHER_KINDS)].filter((k) => k !== 'Namespace' && kindPath(k).namespaced);
    // One all-namespaces list per kind.
    await Promise.all(
      namespacedKinds.map(async (kind) => {
        const items = (await this.list(kind)).filter((i) => mine(i.metadata.namespace) && !(i.metadata.namespace === 'default' && kind === 'Service' && i.metadata.name === 'kubernetes'));
        await Promise.all(items.map((i) => this.removeForGood(kind, i.metadata.namespace, i)));
      }),
    );
    await Promise.all(
      namespaces
        .filter((n) => !SYSTEM_NAMESPACES.has(n))
        .map(async (ns) => {
          await this.rest.expect('PUT', `/api/v1/namespaces/${ns}/finalize`, { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, spec: { finalizers: [] } }, allow: [404, 409] });
          // The first delete marks it Terminating; with no finalizer left the second removes it.
          await this.remove('Namespace', undefined, ns);
          await this.remove('Namespace', undefined, ns);
        }),
    );
    for (const kind of ['GatewayClass', 'Node']) for (const o of await this.list(kind)) await this.remove(kind, undefined, o.metadata.name);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding']) {
      const res = await this.rest.expect<{ items: StoredObject[] }>('GET', collectionPath(kindPath(kind)), { query: { labelSelector: TEST_LABEL } });
      for (const o of res.body?.items ?? []) await this.remove(kind, undefined, o.metadata.name);
    }
  }

  /**
   * Writes objects the CRD's schema refuses, as a cluster has them when they were stored under an older,
   * looser version of the CRD: the CRD of `plural.group` is made schema-less, the objects are written, and
   * the CRD as `restore` has it is put back. The server then serves the objects as stored (it does not
   * revalidate on read), which is how an object weft cannot read reaches the control plane for real.
   */
  async putPredatingSchema(crd: StoredObject | JsonObject, objects: readonly JsonObject[]): Promise<void> {
    const original = crd as StoredObject & { spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; storage: boolean; schema?: unknown }[] } };
    const loose = { ...original, spec: { ...original.spec, versions: original.spec.versions.map((v) => ({ ...v, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } })) } };
    // The server takes a new schema up asynchronously: a dry-run create of an object whose spec is not
    // an object tells which one is in force (the loose schema takes it, every real one refuses it).
    const { group, names, scope } = original.spec;
    const version = original.spec.versions.find((v) => v.storage)?.name ?? original.spec.versions[0].name;
    const namespaced = scope === 'Namespaced';
    const probe = async (): Promise<number> =>
      (
        await this.rest.request('POST', collectionPath({ group, version, plural: names.plural, namespaced }, namespaced ? 'default' : undefined), {
          query: { dryRun: 'All' },
          body: { apiVersion: `${group}/${version}`, kind: names.kind, metadata: { name: 'weft-schema-probe' }, spec: 'not-an-object' },
        })
      ).status;
    await this.put(loose);
    try {
      await retryUntil(async () => (await probe()) === 201, 'the schema-less CRD in force');
      for (const o of objects) await this.put(o);
    } finally {
      await this.put(original);
      await retryUntil(async () => (await probe()) === 422, 'the CRD schema restored');
    }
  }

  /** Resolves once each kind lists (200); throws naming the kinds that did not within `timeoutMs`. */
  async waitServed(kinds: readonly string[], timeoutMs: number): Promise<void> {
    let pending = [...kinds];
    const deadline = Date.now() + timeoutMs;
    while (pending.length > 0) {
      const answers = await Promise.all(pending.map(async (k) => ((await this.rest.request('GET', collectionPath(kindPath(k)), { query: { limit: '1' } })).status === 200 ? undefined : k)));
      pending = answers.filter((k): k is string => k !== undefined);
      if (pending.length === 0) return;
      if (Date.now() > deadline) throw new Error(`the API server does not serve ${pending.join(', ')} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Deletes an object even if a finalizer holds it (a foreground deletion waits for a garbage collector,
   * and none runs here): the finalizers are cleared first.
   */
  private async removeForGood(kind: string, namespace: string | undefined, o: StoredObject): Promise<void> {
    if (Array.isArray(o.metadata.finalizers) && o.metadata.finalizers.length > 0) {
      await this.rest.expect('PATCH', objectUrl(kind, namespace, o.metadata.name), { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json', allow: [404] });
    }
    await this.remove(kind, namespace, o.metadata.name);
  }

  private async apply(url: string, body: JsonObject): Promise<StoredObject> {
    const res = await this.rest.expect<StoredObject>('PATCH', url, { query: { fieldManager: MANAGER, force: 'true' }, body, contentType: 'application/apply-patch+yaml' });
    return res.body!;
  }

  /** Creates the object unless it exists. */
  private async ensure(object: StoredObject | JsonObject): Promise<void> {
    const o = object as StoredObject;
    const k = kindPath(o.kind);
    await this.rest.expect('POST', collectionPath(k, k.namespaced ? o.metadata.namespace : undefined), { body: object, allow: [409] });
  }
}

async function retryUntil(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
