import { access, constants, stat } from 'node:fs/promises';
import { WeftError } from '../../lib/errors/index.js';
import { applyObjects, deleteObjects } from '../../lab/apiserver.js';
import { readObjects, readStatus } from '../../lab/cluster-store.js';
import type { KubeObject as LabObject } from '../../lab/manifests.js';
import { manifestFileName } from '../../lab/manifests.js';
import { labPaths, type LabPaths } from '../../lab/names.js';
import { refString, type ClusterClient, type ClusterTarget, type KubeObject, type ListOptions, type ObjectRef, type ServerVersion } from './cluster-client.js';
import { parseLabelSelector } from './label-selector.js';
import { groupOf, type ResourceType } from './resources.js';

/**
 * The cluster client for a running lab: the lab's cluster-state directory is its API server
 * (lab/names.ts `labPaths`). Writes go to manifests/ through the lab's own apply (which fills uid,
 * creationTimestamp and Service VIPs as an API server would); reads merge manifests/, generated/ (what the
 * control plane's waypoint controller wrote) and pods/ (what the lab's kubelet wrote) with status/.
 * Namespaces are implicit in the lab, so labelling one that has no object creates it.
 */
export class LabClusterClient implements ClusterClient {
  readonly target: ClusterTarget;
  private readonly paths: LabPaths;

  constructor(name: string, stateRoot?: string) {
    this.paths = labPaths(name, stateRoot);
    this.target = { kind: 'lab', name, dir: this.paths.cluster };
  }

  /** Throws ERR_WEFT_LAB_NOT_FOUND unless the lab's cluster directory exists. */
  async ensureExists(): Promise<this> {
    const st = await stat(this.paths.cluster).catch(() => undefined);
    if (st?.isDirectory() !== true) throw new WeftError('ERR_WEFT_LAB_NOT_FOUND', { name: this.target.kind === 'lab' ? this.target.name : '', dir: this.paths.cluster });
    return this;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const all = await this.list(ref.type, ref.type.namespaced ? { namespace: ref.namespace ?? 'default' } : {});
    return all.find((o) => o.metadata.name === ref.name);
  }

  async list(type: ResourceType, options: ListOptions = {}): Promise<KubeObject[]> {
    const matches = parseLabelSelector(options.labelSelector);
    const dirs = type.kind === 'Pod' ? [this.paths.pods, this.paths.manifests] : [this.paths.manifests, this.paths.generated];
    const seen = new Set<string>();
    const out: KubeObject[] = [];
    for (const dir of dirs) {
      for (const { object } of await readObjects(dir)) {
        if (object.kind !== type.kind || groupOf(object) !== groupOf(type)) continue;
        if (type.namespaced && options.namespace !== undefined && (object.metadata.namespace ?? 'default') !== options.namespace) continue;
        if (!matches(object.metadata.labels)) continue;
        const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
        if (seen.has(key)) continue; // manifests/ wins over generated/ for the same object
        seen.add(key);
        const status = await readStatus(this.paths.status, manifestFileName(object));
        out.push(toObject(status === undefined ? object : { ...object, status }));
      }
    }
    return out;
  }

  async apply(object: KubeObject): Promise<KubeObject> {
    await this.requireWritable();
    if (object.metadata.namespace !== undefined) await this.requireNamespace(object.metadata.namespace);
    await applyObjects(this.paths, [toLab(object)]);
    const type = { apiVersion: object.apiVersion, kind: object.kind, plural: '', namespaced: object.metadata.namespace !== undefined };
    const stored = await this.get({ type, name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) });
    if (stored === undefined) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: `lab apply of ${object.kind} ${object.metadata.name} wrote nothing` });
    return stored;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    await this.requireWritable();
    const [result] = await deleteObjects(this.paths, [toLab(headerOf(ref))]);
    return result?.deleted === true;
  }

  async setLabels(ref: ObjectRef, labels: Readonly<Record<string, string | null>>): Promise<KubeObject> {
    const manifests = (await readObjects(this.paths.manifests)).map((s) => s.object);
    let current: LabObject | undefined = manifests.find(
      (o) => o.kind === ref.type.kind && o.metadata.name === ref.name && (!ref.type.namespaced || (o.metadata.namespace ?? 'default') === (ref.namespace ?? 'default')),
    );
    if (current === undefined) {
      // A lab namespace without a Namespace object exists while something lives in it (as `demo` does);
      // labelling one that does not exist would create it from a typo, which Kubernetes refuses too.
      if (ref.type.kind !== 'Namespace' || !(await this.namespaceInUse(ref.name))) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: refString(ref) });
      current = toLab(headerOf(ref));
    }
    const next = structuredClone(current);
    const merged: Record<string, string> = { ...(next.metadata.labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    next.metadata.labels = merged;
    return this.apply(toObject(next));
  }

  /** The lab's state belongs to root: a write as another user is refused by name, not as a raw EACCES. */
  private async requireWritable(): Promise<void> {
    const err = await access(this.paths.manifests, constants.W_OK).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    if (err?.code === 'EACCES' || err?.code === 'EPERM') {
      throw new WeftError('ERR_WEFT_CLI_PERMISSION_DENIED', { what: `writing to lab ${this.labName()}`, path: this.paths.manifests, uid: process.getuid?.() ?? -1 }, { cause: err });
    }
  }

  private async requireNamespace(namespace: string): Promise<void> {
    if (!(await this.namespaceInUse(namespace))) throw new WeftError('ERR_WEFT_CLI_NOT_FOUND', { resource: `namespace ${namespace}` });
  }

  /** `default`, a Namespace object, or any object of the lab in that namespace. */
  private async namespaceInUse(namespace: string): Promise<boolean> {
    if (namespace === 'default') return true;
    for (const dir of [this.paths.manifests, this.paths.pods]) {
      for (const { object } of await readObjects(dir)) {
        if (object.kind === 'Namespace' ? object.metadata.name === namespace : object.metadata.namespace === namespace) return true;
      }
    }
    return false;
  }

  private labName(): string {
    return this.target.kind === 'lab' ? this.target.name : '';
  }

  serverVersion(): Promise<ServerVersion> {
    return Promise.resolve({ major: 0, minor: 0, gitVersion: 'weft-lab' });
  }

  /** The lab has no RBAC: what matters is whether this user may read or write its directory. */
  async canI(verb: string, _type: ResourceType, _namespace?: string): Promise<boolean> {
    const write = !['get', 'list', 'watch'].includes(verb);
    try {
      await access(this.paths.cluster, write ? constants.W_OK : constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }
}

function headerOf(ref: ObjectRef): KubeObject {
  return {
    apiVersion: ref.type.apiVersion,
    kind: ref.type.kind,
    metadata: { name: ref.name, ...(ref.type.namespaced ? { namespace: ref.namespace ?? 'default' } : {}) },
  };
}

// The lab's and the CLI's object types are the same Kubernetes shape, declared on each side.
function toLab(o: KubeObject): LabObject {
  return o;
}

function toObject(o: LabObject): KubeObject {
  return o;
}
