import { parseAllDocuments } from 'yaml';
import { WeftError } from '../lib/errors/index.js';
import type { LooseKubeObject } from '../lib/kube-object.js';
import { objectFileName } from '../lib/object-file-name.js';
import { checkDataKeys, checkIdentity, checkPodSpecNames, labKind } from './object-fields.js';

/**
 * Kubernetes-shaped objects as the lab reads and writes them. The lab is the API server: it checks what
 * it needs to run them (kind, apiVersion, names as Kubernetes allows them, containers, images); the
 * control plane validates the rest.
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

/** Kinds without a namespace (LAB_KINDS); every other kind defaults to namespace `default`. */
export function isClusterScoped(kind: string): boolean {
  return labKind(kind)?.namespaced === false;
}

/** The file control/sources/files.ts reads the object from (lib/object-file-name.ts); namespace defaults to `default`. */
export function manifestFileName(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return objectFileName(obj.kind, isClusterScoped(obj.kind) ? undefined : (obj.metadata.namespace ?? 'default'), obj.metadata.name);
}

export function objectKey(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return isClusterScoped(obj.kind) ? `${obj.kind}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one YAML or JSON text (multi-document, `List` kinds flattened) into objects. */
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

export function checkObject(value: unknown, source: string): KubeObject {
  const bad = (reason: string): never => {
    throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source, reason });
  };
  if (!isRecord(value)) return bad('a document is not a mapping');
  checkIdentity(value, source);
  const obj = value as unknown as KubeObject;
  const where = `${obj.kind} ${obj.metadata.name}`;
  if (obj.kind === 'Pod') checkPodSpec(obj.spec, where, source, bad);
  if (obj.kind === 'Deployment') {
    const spec = obj.spec;
    if (!isRecord(spec) || !isRecord(spec.template)) bad(`${where}: spec.template is missing`);
    const tpl = (spec as { template: Record<string, unknown> }).template;
    checkPodSpec(tpl.spec, `${where} template`, source, bad);
    const replicas = (spec as Record<string, unknown>).replicas;
    if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 100)) {
      bad(`${where}: spec.replicas must be an integer 0-100`);
    }
  }
  if (obj.kind === 'Service') {
    const ports = obj.spec?.ports;
    if (!Array.isArray(ports) || ports.length === 0) bad(`${where}: spec.ports is missing`);
    for (const p of ports as unknown[]) {
      if (!isRecord(p) || typeof p.port !== 'number' || p.port < 1 || p.port > 65535) bad(`${where}: every port needs a port number 1-65535`);
    }
  }
  if (obj.kind === 'ConfigMap' || obj.kind === 'Secret') checkDataKeys(obj, where, source);
  return obj;
}

function checkPodSpec(spec: unknown, where: string, source: string, bad: (reason: string) => never): void {
  if (!isRecord(spec) || !Array.isArray(spec.containers) || spec.containers.length === 0) bad(`${where}: spec.containers is missing`);
  for (const c of (spec as { containers: unknown[] }).containers) {
    if (!isRecord(c) || typeof c.name !== 'string' || typeof c.image !== 'string') bad(`${where}: every container needs a name and an image`);
  }
  checkPodSpecNames(spec as { containers: { name: string }[] }, where, source);
  const rp = (spec).restartPolicy;
  if (rp !== undefined && rp !== 'Always' && rp !== 'OnFailure' && rp !== 'Never') bad(`${where}: restartPolicy ${JSON.stringify(rp)} is not Always, OnFailure or Never`);
}
