import type { KubeConfig } from '@kubernetes/client-node';
import { KubeRest } from './kube-rest.js';
import { KIND_INFO, type KindInfo } from './schemas.js';
import type { KubeObject, ObjectKind, ObjectRef } from './source.js';
import { WeftError } from '../../lib/errors/index.js';

/** URL path of a collection (`namespace` undefined: all namespaces, or a cluster-scoped kind). */
export function collectionPath(info: Pick<KindInfo, 'group' | 'version' | 'plural' | 'namespaced'>, namespace?: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  return info.namespaced && namespace !== undefined ? `${base}/namespaces/${encodeURIComponent(namespace)}/${info.plural}` : `${base}/${info.plural}`;
}

export function objectPath(kind: ObjectKind, namespace: string | undefined, name: string): string {
  const info = KIND_INFO[kind];
  if (info.namespaced && namespace === undefined) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: `${kind} ${name} needs a namespace` });
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}`;
}

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
  /** base64 values, as the API carries them. */
  data?: Record<string, string>;
}

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  /** MicroTime, RFC 3339 with microseconds. */
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface TokenReviewResult {
  authenticated: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/** Outcome of a write that may lose a race: `conflict` is 409 (AlreadyExists or a stale resourceVersion). */
export type WriteOutcome<T> = { readonly ok: true; readonly object: T } | { readonly ok: false; readonly conflict: true };

export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

const SECRETS = { group: '', version: 'v1', plural: 'secrets', namespaced: true } as const;
const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps', namespaced: true } as const;
const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true } as const;

/**
 * The small, typed slice of the Kubernetes API the control plane writes besides its watched kinds:
 * status subresources, server-side apply, deletes, TokenReview, the CA Secret, the trust-root ConfigMaps
 * and the leader Lease.
 */
export class KubeApi {
  readonly rest: KubeRest;

  constructor(kc: KubeConfig) {
    this.rest = new KubeRest(kc);
  }

  async writeStatus(ref: ObjectRef, status: unknown): Promise<void> {
    await this.rest.expect('PATCH', `${objectPath(ref.kind, ref.namespace, ref.name)}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  }

  /** Server-side apply (`force`, so weft owns the fields it manages even after a manual edit). */
  async apply(object: KubeObject, fieldManager: string): Promise<KubeObject> {
    const { status: _status, ...rest } = object;
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...metadata } = object.metadata;
    const info = KIND_INFO[object.kind];
    const body = { ...rest, apiVersion: object.apiVersion || info.apiVersion, metadata };
    const res = await this.rest.expect<KubeObject>('PATCH', objectPath(object.kind, object.metadata.namespace, object.metadata.name), {
      query: { fieldManager, force: 'true' },
      body,
      contentType: 'application/apply-patch+yaml',
    });
    return res.body as KubeObject;
  }

  /** Deletes an object; an object already gone is not an error. */
  async delete(ref: ObjectRef): Promise<boolean> {
    const res = await this.rest.expect('DELETE', objectPath(ref.kind, ref.namespace, ref.name), {
      query: { propagationPolicy: 'Background' },
      allow: [404],
    });
    return res.status !== 404;
  }

  async tokenReview(token: string, audiences: readonly string[]): Promise<TokenReviewResult> {
    const res = await this.rest.expect<{ status?: TokenReviewResult }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
    });
    return res.body?.status ?? { authenticated: false, error: 'empty TokenReview response' };
  }

  async getSecret(namespace: string, name: string): Promise<SecretObject | undefined> {
    const res = await this.rest.expect<SecretObject>('GET', `${collectionPath(SECRETS, namespace)}/${encodeURIComponent(name)}`, { allow: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  /** Creates a Secret unless one of that name exists (then `conflict`): the create-once primitive. */
  async createSecret(namespace: string, secret: SecretObject): Promise<WriteOutcome<SecretObject>> {
    const res = await this.rest.expect<SecretObject>('POST', collectionPath(SECRETS, namespace), {
      body: { apiVersion: 'v1', kind: 'Secret', ...secret, metadata: { ...secret.metadata, namespace } },
      allow: [409],
    });
    return res.status === 409 ? { ok: false, conflict: true } : { ok: true, object: res.body as SecretObject };
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    const res = await this.rest.expect<ConfigMapObject>('GET', `${collectionPath(CONFIGMAPS, namespace)}/${encodeURIComponent(name)}`, { allow: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  /** Server-side apply of a ConfigMap (weft owns the keys it writes; other keys stay). */
  async applyConfigMap(configMap: ConfigMapObject, fieldManager: string): Promise<ConfigMapObject> {
    const ns = configMap.metadata.namespace as string;
    const res = await this.rest.expect<ConfigMapObject>('PATCH', `${collectionPath(CONFIGMAPS, ns)}/${encodeURIComponent(configMap.metadata.name)}`, {
      query: { fieldManager, force: 'true' },
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: configMap.metadata, data: configMap.data },
      contentType: 'application/apply-patch+yaml',
    });
    return res.body as ConfigMapObject;
  }

  async getLease(namespace: string, name: string): Promise<LeaseObject | undefined> {
    const res = await this.rest.expect<LeaseObject>('GET', `${collectionPath(LEASES, namespace)}/${encodeURIComponent(name)}`, { allow: [404] });
    return res.status === 404 ? undefined : res.body;
  }

  async createLease(namespace: string, name: string, spec: LeaseSpec): Promise<WriteOutcome<LeaseObject>> {
    const res = await this.rest.expect<LeaseObject>('POST', collectionPath(LEASES, namespace), {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
      allow: [409],
    });
    return res.status === 409 ? { ok: false, conflict: true } : { ok: true, object: res.body as LeaseObject };
  }

  /** Replaces a Lease guarded by its resourceVersion (optimistic concurrency): a stale one is `conflict`. */
  async updateLease(lease: LeaseObject): Promise<WriteOutcome<LeaseObject>> {
    const ns = lease.metadata.namespace as string;
    const res = await this.rest.expect<LeaseObject>('PUT', `${collectionPath(LEASES, ns)}/${encodeURIComponent(lease.metadata.name)}`, {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
      allow: [409],
    });
    return res.status === 409 ? { ok: false, conflict: true } : { ok: true, object: res.body as LeaseObject };
  }
}
