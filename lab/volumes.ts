import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { joinInside } from '../lib/path-inside.js';
import type { HostPathVolume, MappedHostPath } from './host-paths.js';
import type { KubeObject } from './manifests.js';

/**
 * The few volume kinds the lab's pods need, without mount namespaces: each volume becomes a directory
 * under the lab's state, and container args/env that name a path under a volumeMount are rewritten to
 * that directory. Supported: projected serviceAccountToken (a bound token the lab mints, audience weft),
 * configMap (from a ConfigMap in the cluster state; `weft-ca-root` falls back to the control plane's CA
 * root), emptyDir, and hostPath (the node's own directory for the path, host-paths.ts). Volume names, item paths and ConfigMap keys are checked at apply
 * (object-fields.ts) and joined with joinInside here, so none can place a file outside the pod's directory.
 */
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Volume {
  name: string;
  hostPath?: HostPathVolume;
  projected?: { sources?: { serviceAccountToken?: { path: string; audience?: string } }[] };
  configMap?: { name: string };
  emptyDir?: unknown;
}

export interface VolumeContext {
  readonly dir: string;
  readonly configMaps: readonly KubeObject[];
  readonly namespace: string;
  /** Writes a token for the pod's service account to `file`; undefined when the lab mints none. */
  readonly mintToken?: (file: string, audience: string[]) => Promise<void>;
  readonly caRoot?: string;
  /** The node's directory for a hostPath volume (throws for a path the lab cannot map). */
  readonly mapHostPath: (volume: HostPathVolume, readOnly: boolean) => MappedHostPath;
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
      if (t && ctx.mintToken) await ctx.mintToken(joinInside(dir, t.path), t.audience ? [t.audience] : ['weft']);
    }
    if (v.configMap) {
      const cm = ctx.configMaps.find((c) => c.kind === 'ConfigMap' && c.metadata.name === v.configMap!.name && (c.metadata.namespace ?? 'default') === ctx.namespace);
      const data = (cm?.data ?? {}) as Record<string, string>;
      for (const [k, value] of Object.entries(data)) await writeFile(joinInside(dir, k), value);
      if (!cm && v.configMap.name === 'weft-ca-root' && ctx.caRoot && existsSync(ctx.caRoot)) {
        await copyFile(ctx.caRoot, join(dir, 'root-cert.pem'));
        await copyFile(ctx.caRoot, join(dir, 'ca.crt'));
      }
    }
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
