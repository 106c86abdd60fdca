/**
 * The shape of a Kubernetes object as every part of weft reads it: the CLI (cli/kube), the lab (lab/manifests)
 * and the control plane's sources (control/sources). Each narrows it where it knows more (the control plane's
 * validated `kind`, the lab's pod spec), but the metadata is declared once, here.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
  generation?: number;
  ownerReferences?: OwnerReference[];
}

/**
 * An object as read from YAML or the API: fields weft does not model are kept (index signatures), so that a
 * read-modify-write never drops them.
 */
export interface LooseKubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}
