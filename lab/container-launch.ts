import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readObjects } from './cluster-store.js';
import { programFor } from './images.js';
import type { Container, PodSpec } from './manifests.js';
import { meshPaths, writeToken } from './mesh.js';
import type { LabPaths } from './names.js';
import type { PodState } from './pod-state.js';
import type { NodeInfo } from './topology.js';
import { prepareVolumes, rewritePath, type VolumeMount } from './volumes.js';

// What the lab's kubelet starts a container with: its environment, command line and volumes, derived from
// the pod spec the way a kubelet does (kubelet.ts runs and supervises the process).

/** The environment of a container: the lab's own variables, then the container's `env` (values and fieldRefs). */
export function containerEnv(st: PodState, c: Container, node: NodeInfo, labName: string): NodeJS.ProcessEnv {
  const rec = st.rec;
  const spec = st.obj.spec as unknown as PodSpec;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    POD_NAME: rec.name,
    POD_NAMESPACE: rec.namespace,
    POD_UID: rec.uid,
    POD_IP: rec.ip ?? '',
    NODE_NAME: node.name,
    HOST_IP: node.ip,
    SERVICE_ACCOUNT: spec.serviceAccountName ?? 'default',
    WEFT_LAB: labName,
  };
  const fields: Record<string, string> = {
    'metadata.name': rec.name,
    'metadata.namespace': rec.namespace,
    'metadata.uid': rec.uid,
    'status.podIP': rec.ip ?? '',
    'status.hostIP': node.ip,
    'spec.nodeName': node.name,
    'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
  };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? '';
  }
  return env;
}

/** The command line: a repo program for `weft/*` images, else the container's command and args (paths mapped into its mounts). */
export function containerArgv(st: PodState, c: Container, mounts: ReadonlyMap<string, string>, distDir: string): string[] {
  const program = programFor(c.image, st.key);
  const args = (c.args ?? []).map((a) => rewritePath(a, mounts));
  if (program.kind === 'node') return [process.execPath, join(distDir, program.entry), ...args];
  const argv = [...(c.command ?? []).map((a) => rewritePath(a, mounts)), ...args];
  return argv.length > 0 ? argv : ['sleep', 'infinity'];
}

/** Prepares the container's volumes (ConfigMaps, projected tokens, the CA root) and returns mount path → host path. */
export async function containerVolumes(paths: LabPaths, node: NodeInfo, st: PodState, c: Container): Promise<Map<string, string>> {
  const mounts = (c as Container & { volumeMounts?: VolumeMount[] }).volumeMounts ?? [];
  if (mounts.length === 0) return new Map();
  const spec = st.obj.spec as unknown as PodSpec & { volumes?: [] };
  const manifests = (await readObjects(paths.manifests)).map((x) => x.object);
  const mesh = meshPaths(paths);
  const canMint = existsSync(mesh.tokenKey);
  return prepareVolumes(spec.volumes, mounts, {
    dir: join(paths.root, 'volumes', `${st.rec.namespace}.${st.rec.name}`),
    configMaps: manifests,
    namespace: st.rec.namespace,
    caRoot: mesh.caRoot,
    ...(canMint
      ? {
          mintToken: (file: string, audience: string[]) =>
            writeToken(
              paths,
              {
                namespace: st.rec.namespace,
                serviceAccount: spec.serviceAccountName ?? 'default',
                pod: { name: st.rec.name, uid: st.rec.uid },
                node: { name: node.name },
                audience,
              },
              file,
            ),
        }
      : {}),
  });
}
