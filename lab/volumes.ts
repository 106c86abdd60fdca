import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { joinInside } from '../lib/path-inside.js';
import type { HostPathVolume, MappedHostPath } from './host-paths.js';

/**
 * The few volume kinds the lab's pods need, without mount namespaces: each volume becomes a directory
 * under the lab's state, and container args/env that name a path under a volumeMount are rewritten to
 * that directory. Supported: projected serviceAccountToken (a bound token through TokenRequest),
 * configMap and projected configMap/downwardAPI sources (the ConfigMap from the API server), emptyDir,
 * and hostPath (the node's own directory for the path, host-paths.ts). Volume names, item paths and
 * ConfigMap keys are validated by the API server and joined with joinInside here, so none can place a
 * file outside the pod's directory.
 */
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

interface KeyPath {
  key: string;
  path: string;
}

interface ProjectedSource {
  serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
  configMap?: { name: string; items?: KeyPath[] };
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string } }[] };
}

export interface Volume {
  name: string;
  hostPath?: HostPathVolume;
  projected?: { sources?: ProjectedSource[] };
  configMap?: { name: string; items?: KeyPath[] };
  emptyDir?: unknown;
}

export interface VolumeContext {
  readonly dir: string;
  /** A ConfigMap's data in the pod's namespace; undefined when there is none. */
  readonly configMap: (name: string) => Promise<Record<string, string> | undefined>;
  /** Values of the pod's fields for downwardAPI items (`metadata.namespace`, ...). */
  readonly fields: Readonly<Record<string, string>>;
  /** Writes a token for the pod's service account to `file`. */
  readonly mintToken: (file: string, audience: string[] | undefined, expirationSeconds: number | undefined) => Promise<void>;
  /** The node's directory for a hostPath volume (throws for a path the lab cannot map). */
  readonly mapHostPath: (volume: HostPathVolume, readOnly: boolean) => MappedHostPath;
}

/** Writes a ConfigMap's keys (or the listed items) into `dir`; false when the ConfigMap is missing. */
async function writeConfigMap(dir: string, ref: { name: string; items?: KeyPath[] }, ctx: VolumeContext): Promise<boolean> {
  const data = await ctx.configMap(ref.name);
  if (data === undefined) return false;
  const items = ref.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const it of items) {
    const value = data[it.key];
    if (value === undefined) continue;
    const file = joinInside(dir, it.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, value);
  }
  return true;
}

/** Creates each volume's directory and content; returns mountPath → host directory. */
export async function prepareVolumes(volumes: readonly Volume[] | undefined, mounts: readonly VolumeMount[], ctx: VolumeContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of mounts) {
    const v = volumes?.find((x) => x.name === m.name);
    if (!v) continue;
    if (v.hostPath) {
      const host = ctx.mapHostPath(v.hostPath, m.readOnly === true);
      if (host.create) await mkdir(host.dir, { recursive: true });
      out.set(m.mountPath.replace(/\/+$/, ''), host.dir);
      continue;
    }
    const dir = joinInside(ctx.dir, v.name);
    await mkdir(dir, { recursive: true });
    for (const src of v.projected?.sources ?? []) {
      const t = src.serviceAccountToken;
      if (t) await ctx.mintToken(joinInside(dir, t.path), t.audience ? [t.audience] : undefined, t.expirationSeconds);
      if (src.configMap) await writeConfigMap(dir, src.configMap, ctx);
      for (const it of src.downwardAPI?.items ?? []) {
        const value = it.fieldRef ? ctx.fields[it.fieldRef.fieldPath] : undefined;
        if (value !== undefined) await writeFile(joinInside(dir, it.path), value);
      }
    }
    if (v.configMap) await writeConfigMap(dir, v.configMap, ctx);
    out.set(m.mountPath.replace(/\/+$/, ''), dir);
  }
  return out;
}

/** `/var/run/secrets/tokens/weft-token` → `<dir>/weft-token` when a volume is mounted at its parent. */
export function rewritePath(value: string, mounts: ReadonlyMap<string, string>): string {
  for (const [mountPath, dir] of mounts) {
    if (value === mountPath) return dir;
    if (value.startsWith(`${mountPath}/`)) return dir + value.slice(mountPath.length);
  }
  return value;
}

/**
 * Every mounted path inside a command's text mapped to its directory (an exec probe's `sh -c` script names
 * `/host/etc/cni/net.d/*.conflist`): a mount path counts where it starts a word and ends at `/`, `*`, a
 * quote, a space or the end.
 */
export function rewritePathsInText(text: string, mounts: ReadonlyMap<string, string>): string {
  if (mounts.size === 0) return text;
  // One pass, longest path first in the alternation: /var/run/weft/state is not /var/run/weft plus a rest,
  // and a replaced directory is never matched again.
  const paths = [...mounts.keys()].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(^|[\\s'"=:])(${paths.join('|')})(?=$|[/\\s'"*])`, 'g');
  return text.replace(re, (_m, pre: string, path: string) => pre + (mounts.get(path) ?? path));
}
