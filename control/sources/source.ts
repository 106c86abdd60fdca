import type { EventEmitter } from 'node:events';
import type { ObjectMeta } from '../../lib/kube-object.js';

export type { ObjectMeta } from '../../lib/kube-object.js';

/**
 * The one interface behind which cluster state comes into the control plane (ARCHITECTURE.md,
 * "Cluster-state sources"): Kubernetes informers or a watched directory of YAML. Everything downstream
 * (compile, discovery, identity, status, waypoint controller) sees only these validated objects.
 */
export type ObjectKind =
  | 'Namespace'
  | 'Pod'
  | 'Service'
  | 'EndpointSlice'
  | 'ServiceAccount'
  | 'Deployment'
  | 'PodDisruptionBudget'
  | 'ConfigMap'
  | 'Gateway'
  | 'GatewayClass'
  | 'HTTPRoute'
  | 'GRPCRoute'
  | 'ReferenceGrant'
  | 'AuthorizationPolicy';

/**
 * A Kubernetes-shaped object that passed validation for its kind (control/sources/schemas.ts holds the
 * per-kind schemas and the typed views of `spec` and `status`).
 */
export interface KubeObject {
  apiVersion: string;
  kind: ObjectKind;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

export interface ObjectRef {
  kind: ObjectKind;
  namespace?: string;
  name: string;
}

export interface SourceChange {
  type: 'upsert' | 'delete';
  object: KubeObject;
}

/** What an `invalid` event carries. */
export interface InvalidInfo {
  ref: Partial<ObjectRef>;
  /** The file it came from (directory source). */
  file?: string;
  reason: string;
  /** The raw object as read, when it parsed into an object (e.g. for writing a status condition on it). */
  object?: unknown;
}

export interface ClusterSource extends EventEmitter {
  readonly type: 'kubernetes' | 'directory';
  /** Starts watching; resolves once every kind has its initial state (readiness gates on it). */
  start(): Promise<void>;
  stop(): Promise<void>;
  list(kind: ObjectKind): readonly KubeObject[];
  get(ref: ObjectRef): KubeObject | undefined;
  /** Writes the status subresource (directory mode: a status file beside the manifests). */
  writeStatus(ref: ObjectRef, status: unknown): Promise<void>;
  /** Server-side apply with a field manager (directory mode: writes the object into the directory). */
  apply(object: KubeObject, fieldManager: string): Promise<void>;
  delete(ref: ObjectRef): Promise<void>;
  /**
   * Objects that currently fail validation (one entry per object; optional so that test doubles need not
   * implement it). They are skipped, except AuthorizationPolicies, served in their fail-closed form
   * (authz-fail-closed.ts). The status controller marks them.
   */
  invalidObjects?(): readonly InvalidInfo[];
  /** Emitted after the initial sync for every change, batched per tick. */
  on(event: 'change', listener: (changes: readonly SourceChange[]) => void): this;
  /** An object that failed validation: reported and skipped, never applied as written. */
  on(event: 'invalid', listener: (info: InvalidInfo) => void): this;
}
