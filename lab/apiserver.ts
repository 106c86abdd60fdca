import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WeftError } from '../lib/errors/index.js';
import { readObjects, removeFile, writeObject } from './cluster-store.js';
import { programFor } from './images.js';
import type { KubeObject, PodSpec } from './manifests.js';
import { isClusterScoped, manifestFileName, objectKey, parseManifests } from './manifests.js';
import type { LabPaths } from './names.js';
import { allocateVip, isVip } from './vip.js';

/**
 * The lab's API server for `weft lab apply/delete`: it validates, fills what a real API server fills
 * (namespace, uid, creationTimestamp, a Service's clusterIP) and writes each object to manifests/.
 * Re-applying an object keeps its uid, creation time and VIP, as an update would.
 */
export async function readInput(spec: string, stdin: () => Promise<string>): Promise<KubeObject[]> {
  if (spec === '-') return parseManifests(await stdin(), 'stdin');
  const st = await stat(spec).catch(() => undefined);
  if (!st) throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source: spec, reason: 'no such file or directory' });
  if (!st.isDirectory()) return parseManifests(await readFile(spec, 'utf8'), spec);
  const out: KubeObject[] = [];
  for (const name of (await readdir(spec)).sort()) {
    if (!/\.(ya?ml|json)$/.test(name)) continue;
    out.push(...parseManifests(await readFile(join(spec, name), 'utf8'), join(spec, name)));
  }
  return out;
}

function checkImages(obj: KubeObject): void {
  const spec = obj.kind === 'Pod' ? (obj.spec as unknown as PodSpec) : obj.kind === 'Deployment' ? ((obj.spec?.template as { spec: PodSpec }).spec) : undefined;
  if (!spec) return;
  const ref = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
  for (const c of spec.containers) programFor(c.image, ref);
}

export interface ApplyResult {
  readonly key: string;
  readonly action: 'created' | 'configured' | 'unchanged';
}

export async function applyObjects(paths: LabPaths, objects: readonly KubeObject[], now = new Date()): Promise<ApplyResult[]> {
  const existing = new Map((await readObjects(paths.manifests)).map((s) => [objectKey(s.object), s.object]));
  const generated = await readObjects(paths.generated);
  const usedVips = new Map<string, string>();
  for (const o of [...existing.values(), ...generated.map((g) => g.object)]) {
    const ip = o.kind === 'Service' ? o.spec?.clusterIP : undefined;
    if (typeof ip === 'string' && isVip(ip)) usedVips.set(ip, objectKey(o));
  }
  // Validate everything first, so that a bad document in a file applies nothing.
  const prepared: KubeObject[] = [];
  for (const input of objects) {
    const obj = structuredClone(input);
    if (isClusterScoped(obj.kind)) delete obj.metadata.namespace;
    else obj.metadata.namespace ??= 'default';
    checkImages(obj);
    const key = objectKey(obj);
    const old = existing.get(key);
    obj.metadata.uid = old?.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? now.toISOString();
    if (obj.kind === 'Pod' && old?.spec?.nodeName !== undefined && obj.spec && obj.spec.nodeName === undefined) {
      obj.spec.nodeName = old.spec.nodeName; // bound Pods stay where they run
    }
    if (obj.kind === 'Service') assignClusterIp(obj, old, usedVips);
    prepared.push(obj);
  }
  const results: ApplyResult[] = [];
  for (const obj of prepared) {
    const key = objectKey(obj);
    const old = existing.get(key);
    const action = !old ? 'created' : JSON.stringify(old) === JSON.stringify(obj) ? 'unchanged' : 'configured';
    if (action !== 'unchanged') await writeObject(paths.manifests, manifestFileName(obj), obj);
    existing.set(key, obj);
    results.push({ key, action });
  }
  return results;
}

function assignClusterIp(obj: KubeObject, old: KubeObject | undefined, used: Map<string, string>): void {
  const spec = (obj.spec ??= {});
  const key = objectKey(obj);
  const asked = spec.clusterIP;
  if (asked === 'None') return;
  if (typeof asked === 'string' && asked !== '') {
    if (!isVip(asked)) throw new WeftError('ERR_WEFT_LAB_MANIFEST_INVALID', { source: key, reason: `clusterIP ${asked} is not in 10.96.0.0/16` });
    const owner = used.get(asked);
    if (owner !== undefined && owner !== key) throw new WeftError('ERR_WEFT_LAB_VIP_TAKEN', { ip: asked, service: key, owner });
    used.set(asked, key);
    spec.clusterIPs = [asked];
    return;
  }
  const kept = old?.spec?.clusterIP;
  const ip = typeof kept === 'string' && isVip(kept) ? kept : allocateVip(key, new Set(used.keys()));
  used.set(ip, key);
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
}

/**
 * Services that the control plane's waypoint controller writes into generated/ arrive without a cluster
 * IP; in a real cluster the API server allocates one, so the lab does it here (same allocator as apply).
 * Returns the keys of the Services it assigned.
 */
export async function allocateGeneratedVips(paths: LabPaths): Promise<string[]> {
  const manifests = await readObjects(paths.manifests);
  const generated = await readObjects(paths.generated);
  const used = new Map<string, string>();
  for (const o of [...manifests, ...generated].map((s) => s.object)) {
    const ip = o.kind === 'Service' ? o.spec?.clusterIP : undefined;
    if (typeof ip === 'string' && isVip(ip)) used.set(ip, objectKey(o));
  }
  const assigned: string[] = [];
  for (const s of generated) {
    const o = s.object;
    if (o.kind !== 'Service') continue;
    const ip = o.spec?.clusterIP;
    if (typeof ip === 'string' && ip !== '') continue;
    assignClusterIp(o, undefined, used);
    await writeObject(paths.generated, basename(s.file), o);
    assigned.push(objectKey(o));
  }
  return assigned;
}

export async function deleteObjects(paths: LabPaths, objects: readonly KubeObject[]): Promise<{ key: string; deleted: boolean }[]> {
  const existing = new Map((await readObjects(paths.manifests)).map((s) => [objectKey(s.object), s]));
  const out: { key: string; deleted: boolean }[] = [];
  for (const input of objects) {
    const obj = structuredClone(input);
    if (!isClusterScoped(obj.kind)) obj.metadata.namespace ??= 'default';
    const key = objectKey(obj);
    const stored = existing.get(key);
    if (stored) await removeFile(stored.file);
    out.push({ key, deleted: stored !== undefined });
  }
  return out;
}
