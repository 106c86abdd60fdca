import { join } from 'node:path';
import { writeAtomic } from './atomic-file.js';
import { programFor } from './images.js';
import type { Container, PodSpec } from './manifests.js';
import type { LabPaths } from './names.js';
import { run } from './command.js';
import { FIXED_RUN_PATHS, inPod } from './pod-etc.js';
import { runNetns, type PodState, type RuntimeRecord } from './pod-state.js';
import type { ProbeTarget } from './probes.js';
import type { NodeInfo } from './topology.js';
import { WeftError } from '../lib/errors/index.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/telemetry/log.js';
import { TokenRefresher } from './token-refresh.js';
import { mapHostPath, type HostPathVolume } from './host-paths.js';
import type { NodePods } from './kube/node-pods.js';
import { prepareVolumes, rewritePathsInText, type Volume, type VolumeMount } from './volumes.js';

/** The `weft` image's ENTRYPOINT (Dockerfile); its working directory is the repository root, as the lab's. */
const IMAGE_ENTRYPOINT = ['node', 'dist/waypoint/main.js'];

// What the lab's kubelet starts a container with: its environment, command line and volumes, derived from
// the pod spec the way a kubelet does (kubelet.ts runs and supervises the process).

/** The pod's fields a fieldRef (env) or downwardAPI item (volume) can name. */
function podFields(st: PodState, node: NodeInfo): Record<string, string> {
  const rec = st.rec;
  const spec = st.obj.spec as unknown as PodSpec;
  return {
    'metadata.name': rec.name,
    'metadata.namespace': rec.namespace,
    'metadata.uid': rec.uid,
    'status.podIP': rec.ip ?? '',
    'status.hostIP': node.ip,
    'spec.nodeName': node.name,
    'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
  };
}

/**
 * The environment of a container: the lab's own variables, then the container's `env` (values and
 * fieldRefs), and KUBERNETES_SERVICE_HOST/PORT, as from a kubelet: here the API server's own address (the
 * `kubernetes` Service's only endpoint), which the lab's kube-proxy does not DNAT.
 */
export function containerEnv(st: PodState, c: Container, node: NodeInfo, labName: string, apiServer?: URL): NodeJS.ProcessEnv {
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
  if (apiServer) {
    env.KUBERNETES_SERVICE_HOST = apiServer.hostname;
    env.KUBERNETES_SERVICE_PORT = apiServer.port || '443';
  }
  const fields = podFields(st, node);
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? '';
  }
  return env;
}

/** The command line: a repo program for `weft/*` images, the container's command from the repository root for `weft`, else the container's command and args (paths mapped into its mounts). */
export function containerArgv(st: PodState, c: Container, mounts: ReadonlyMap<string, string>, distDir: string): string[] {
  const program = programFor(c.image, st.key);
  // Whole values and `--flag=<path>` alike (the chart passes `--cni-conf-dir=/host/etc/cni/net.d`).
  const args = (c.args ?? []).map((a) => rewritePathsInText(a, mounts));
  if (program.kind === 'node') return [process.execPath, join(distDir, program.entry), ...args];
  if (program.kind === 'repo') {
    // The image's ENTRYPOINT (Dockerfile) when the container names no command; `node` is this Node.
    const [exe, ...rest] = (c.command ?? IMAGE_ENTRYPOINT).map((a) => rewritePathsInText(a, mounts));
    return [exe === 'node' ? process.execPath : exe, ...rest, ...args];
  }
  const argv = [...(c.command ?? []).map((a) => rewritePathsInText(a, mounts)), ...args];
  return argv.length > 0 ? argv : ['sleep', 'infinity'];
}

/**
 * Prepares the container's volumes and returns mount path → host path: tokens through TokenRequest and
 * ConfigMaps from the API server (a missing one fails the start, retried as a kubelet waits for it).
 */
export async function containerVolumes(paths: LabPaths, node: NodeInfo, st: PodState, c: Container, api: NodePods | undefined, log: Logger): Promise<Map<string, string>> {
  const mounts = volumeMounts(c);
  if (mounts.length === 0) return new Map();
  if (!api) throw new WeftError('ERR_WEFT_CORE_INTERNAL', { reason: `volumes of ${st.key} before the kubelet has its API server` });
  const spec = st.obj.spec as unknown as PodSpec & { volumes?: Volume[] };
  const { namespace, name, uid } = st.rec;
  const serviceAccount = spec.serviceAccountName ?? 'default';
  return prepareVolumes(spec.volumes, mounts, {
    dir: join(paths.root, 'volumes', `${namespace}.${name}`),
    fields: podFields(st, node),
    mapHostPath: (v: HostPathVolume, readOnly: boolean) => mapHostPath(v, readOnly, paths.node(node.name), st.key),
    configMap: async (cm) => {
      const data = await api.configMap(namespace, cm);
      if (data === undefined) throw new WeftError('ERR_WEFT_SOURCE_KUBE_REQUEST', { method: 'GET', path: `configmaps/${namespace}/${cm}`, status: 404, reason: `ConfigMap ${cm} of volume of ${st.key} not found (yet)` });
      return data;
    },
    // Requested again before it expires, as a kubelet does (token-refresh.ts), until the pod stops.
    mintToken: (file, audiences, expirationSeconds) =>
      (st.tokens ??= new TokenRefresher({ log })).start(file, async () => {
        const asked = realClock.now();
        const t = await api.requestToken({ namespace, serviceAccount, pod: { name, uid }, audiences: audiences ?? [], ...(expirationSeconds !== undefined ? { expirationSeconds } : {}) });
        await writeAtomic(file, t.token, 0o600);
        return { issuedAtMs: asked, expiresAtMs: asked + (Date.parse(t.expirationTimestamp) - Date.now()) };
      }),
  });
}

function volumeMounts(c: Container): VolumeMount[] {
  return (c as Container & { volumeMounts?: VolumeMount[] }).volumeMounts ?? [];
}

/** Throws ERR_WEFT_LAB_HOSTPATH_UNSUPPORTED for the first hostPath a container mounts that the lab cannot map. */
export function checkHostPaths(paths: LabPaths, node: NodeInfo, st: PodState): void {
  const volumes = (st.obj.spec as unknown as { volumes?: Volume[] }).volumes ?? [];
  for (const c of st.containers) {
    for (const m of volumeMounts(c.spec)) {
      const v = volumes.find((x) => x.name === m.name);
      if (v?.hostPath) mapHostPath(v.hostPath, m.readOnly === true, paths.node(node.name), st.key);
    }
  }
}

/** Setting up the pod's namespaces for an exec probe (ip netns exec, the /etc mount) is not the command's time. */
const EXEC_SETUP_ALLOWANCE_MS = 4000;

/** What a container's probes reach: its IP, and its command line in the pod with the container's paths mapped. */
export function probeTarget(paths: LabPaths, rec: RuntimeRecord, mounts: ReadonlyMap<string, string>): ProbeTarget {
  return {
    ip: rec.ip ?? '127.0.0.1',
    exec: async (command, timeoutMs) => {
      const argv = inPod(paths, runNetns(rec), command.map((a) => rewritePathsInText(a, mounts)), rec.netns);
      const r = await run(argv, { allowFailure: true, timeoutMs: timeoutMs + EXEC_SETUP_ALLOWANCE_MS }).catch(() => undefined);
      return r?.code === 0;
    },
  };
}

/** The container's mounts at FIXED_RUN_PATHS (`/var/run/...` as `/run/...`), which inPod binds in place. */
export function fixedRunMounts(mounts: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, dir] of mounts) {
    const run = path.replace(/^\/var\/run\//, '/run/');
    if (FIXED_RUN_PATHS.includes(run)) out.set(run, dir);
  }
  return out;
}

/**
 * `$(VAR)` in a container's command and args, expanded as a kubelet does: from the container's own `env`
 * (the chart passes `--node=$(NODE_NAME)`); `$$` is a literal `$`, and a reference to an undefined
 * variable stays as written.
 */
export function expandEnvRefs(argv: readonly string[], env: NodeJS.ProcessEnv, c: Container): string[] {
  const declared = new Set((c.env ?? []).map((e) => e.name));
  return argv.map((a) => a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (name === undefined) return '$';
    const v = env[name];
    return declared.has(name) && v !== undefined ? v : m;
  }));
}
