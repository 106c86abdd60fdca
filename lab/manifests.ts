import { parseAllDocuments } from 'yaml';
import { WeftError } from '../lib/errors/index.js';
import type { LooseKubeObject } from '../lib/kube-object.js';

/**
 * Kubernetes-shaped objects as the lab's kubelet reads them from its API server (the fields it runs a pod
 * with), and the manifests `weft lab apply` sends there.
 */
export type { ObjectMeta } from '../lib/kube-object.js';
export type KubeObject = LooseKubeObject;

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface HttpGetAction {
  path?: string;
  port: number | string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

export interface Probe {
  httpGet?: HttpGetAction;
  tcpSocket?: { port: number | string };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

export interface PodSpec {
  nodeName?: string;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  serviceAccountName?: string;
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  [key: string]: unknown;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses one YAML or JSON text (multi-document, `List` kinds flattened) into objects. Only the shape
 * `weft lab apply` needs to address an object is checked (apiVersion, kind, metadata.name); the API
 * server validates the rest.
 */
export function parseManifests(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  const docs = parseAllDocuments(text);
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source, reason: doc.errors[0].message });
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) {
      for (const item of value.items as unknown[]) out.push(checkObject(item, source));
    } else out.push(checkObject(value, source));
  }
  return out;
}

function checkObject(value: unknown, source: string): KubeObject {
  const bad = (reason: string): never => {
    throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source, reason });
  };
  if (!isRecord(value)) return bad('a document is not a mapping');
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return bad('a document has no apiVersion or kind');
  const meta = value.metadata;
  if (!isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') return bad(`a ${value.kind} has no metadata.name`);
  return value as unknown as KubeObject;
}
