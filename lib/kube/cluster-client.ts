import type { LooseKubeObject } from '../kube-object.js';
import type { ResourceType } from './resources.js';

export type { ObjectMeta } from '../kube-object.js';

/**
 * What every CLI command needs from "the cluster", behind one small interface with two implementations:
 * the Kubernetes API (kube-cluster.ts, through @kubernetes/client-node and the current kubeconfig, or a lab's
 * admin kubeconfig: lab/kube/lab-client.ts) and the test doubles. Commands are written once
 * against this interface.
 */
/** A ConfigMap's `data` is the one top-level field beyond spec/status the CLI reads. */
export interface KubeObject extends LooseKubeObject {
  data?: Record<string, string>;
}

export interface ObjectRef {
  readonly type: ResourceType;
  readonly name: string;
  readonly namespace?: string;
}

export interface ListOptions {
  /** Omit for every namespace. */
  readonly namespace?: string;
  /** Equality-based selector: `a=b,c!=d,e,!f`. */
  readonly labelSelector?: string;
}

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly gitVersion: string;
}

export type ClusterTarget =
  | { readonly kind: 'kubernetes'; readonly context: string; readonly server: string }
  /** A lab: its own API server, and `dir` its state directory (/var/run/weft-lab/<name>). */
  | { readonly kind: 'lab'; readonly name: string; readonly dir: string };

export interface ClusterClient {
  readonly target: ClusterTarget;
  /** The object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(type: ResourceType, options?: ListOptions): Promise<KubeObject[]>;
  /** Creates or updates (server-side apply with field manager `weft`); returns the stored object. */
  apply(object: KubeObject): Promise<KubeObject>;
  /** True when something was deleted. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Sets (string) or removes (null) labels; throws ERR_WEFT_CLI_NOT_FOUND when the object is absent. */
  setLabels(ref: ObjectRef, labels: Readonly<Record<string, string | null>>): Promise<KubeObject>;
  serverVersion(): Promise<ServerVersion>;
  /** SelfSubjectAccessReview: may the current user do this? */
  canI(verb: string, type: ResourceType, namespace?: string): Promise<boolean>;
}

/** `weft` writes with this field manager, so `kubectl` shows who owns what. */
export const FIELD_MANAGER = 'weft';

export function describeTarget(t: ClusterTarget): string {
  return t.kind === 'kubernetes' ? `cluster ${t.context} (${t.server})` : `lab ${t.name} (${t.dir})`;
}

export function refString(ref: ObjectRef): string {
  return `${ref.type.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}
