import { realpathSync } from 'node:fs';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { joinInside } from '../lib/path-inside.js';
import { writeAtomic } from './atomic-file.js';
import type { LabPaths } from './names.js';
import { inNetns } from './netns.js';

/**
 * A pod's /etc, so that its hosts file (the lab's name resolution) can be replaced atomically while the
 * pod resolves names. `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts: a bind mount of
 * a file pins its inode, so a temp file renamed over the source is never seen by the pod, and rewriting
 * it in place lets a lookup read it empty or half written (it then misses and waits out the resolver's
 * 5 s timeout). Instead each pod gets a directory, <state>/pod-etc/<pod netns>/, holding its `hosts` and
 * one symlink per other entry of the host's /etc, and its processes start through `inPod`, which (in the
 * private mount namespace `ip netns exec` creates) bind-mounts the host's / at a mirror path and that
 * directory over /etc. A directory mount shows renames inside it, so `writePodHosts` (temp file + rename)
 * is atomic from the pod's point of view. The symlinks point into the mirror (`<mirror>/etc/<entry>`),
 * where relative links of the host's /etc (`../usr/lib/os-release`) still resolve.
 *
 * The mirror lives beside the lab's state dir, not in it, and is mounted only inside pod mount
 * namespaces: removing a lab's state dir never walks into it.
 */
const LAUNCH = 'mount --rbind / "$1" && mount --bind "$2" /etc && shift 2 && exec "$@"';

/**
 * Where the lab's pods see the host's root while their /etc is the pod's directory: an empty directory
 * beside the lab's state dir, one per lab (`down` removes it after the lab's pods are gone; removing a
 * directory that is a mount point in another namespace would detach it from pods still running).
 */
export function hostRootMirror(paths: LabPaths): string {
  return join(dirname(paths.root), `.host-root-${basename(paths.root)}`);
}

export function podEtcDir(paths: LabPaths, netns: string): string {
  return joinInside(join(paths.root, 'pod-etc'), netns);
}

/** Creates (or recreates) the pod's /etc directory with `hosts` as its name resolution. */
export async function preparePodEtc(paths: LabPaths, netns: string, hosts: string): Promise<void> {
  const dir = podEtcDir(paths, netns);
  const mirror = hostRootMirror(paths);
  await mkdir(mirror, { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const name of await readdir('/etc')) {
    if (name === 'hosts') continue;
    await symlink(join(mirror, 'etc', name), join(dir, name));
  }
  await writePodHosts(paths, netns, hosts);
}

/** Replaces the pod's hosts file atomically (temp file in the same directory, then rename). */
export async function writePodHosts(paths: LabPaths, netns: string, hosts: string): Promise<void> {
  await writeAtomic(join(podEtcDir(paths, netns), 'hosts'), hosts);
}

export async function removePodEtc(paths: LabPaths, netns: string): Promise<void> {
  await rm(podEtcDir(paths, netns), { recursive: true, force: true });
}

/**
 * With mounts at fixed paths under /run (the in-cluster ServiceAccount directory, which client libraries
 * read without being told where): the pod gets a root of its own, the host's / seen through the mirror
 * with a fresh tmpfs on its /run (so that mount points are made there, never on the host), the host's
 * /run/netns and the lab's state root bound back into it, its /etc, and each `<dir> <path>` pair bound,
 * then the command runs chrooted there in the same working directory.
 */
const LAUNCH_ROOTED = [
  'set -e; m="$1"; keep="$3"; shift 3',
  'mount --rbind / "$m"',
  'mount -t tmpfs -o mode=0755 weft-pod-run "$m/run"',
  'mkdir -p "$m/run/netns"; mount --rbind /run/netns "$m/run/netns"',
  'if [ -n "$keep" ]; then mkdir -p "$m$keep"; mount --rbind "$keep" "$m$keep"; fi',
  'while [ "$1" != -- ]; do mkdir -p "$m$2"; mount --bind "$1" "$m$2"; shift 2; done; shift',
  `exec chroot "$m" sh -c 'cd "$0" && exec "$@"' "$PWD" "$@"`,
].join('\n');

/** Mount paths a pod's programs read without being told where (the in-cluster ServiceAccount directory). */
export const FIXED_RUN_PATHS = ['/run/secrets/kubernetes.io/serviceaccount'];

/**
 * argv that runs `argv` in the pod: its network namespace, and its /etc (hosts file) over the host's. A
 * hostNetwork pod runs in its node's namespace (`netns`) with its own /etc (`etc`, its pod netns name).
 * `runMounts` (path under /run → directory) are bound at their paths in a root of the pod's own.
 */
export function inPod(paths: LabPaths, netns: string, argv: readonly string[], etc = netns, runMounts: ReadonlyMap<string, string> = new Map()): string[] {
  if (runMounts.size === 0) return inNetns(netns, ['sh', '-c', LAUNCH, 'weft-pod', hostRootMirror(paths), podEtcDir(paths, etc), ...argv]);
  const stateRoot = realpathSync(dirname(paths.root));
  const keep = stateRoot.startsWith('/run/') ? stateRoot : '';
  const binds = [...runMounts].flatMap(([path, dir]) => [dir, path]);
  return inNetns(netns, ['sh', '-c', LAUNCH_ROOTED, 'weft-pod', hostRootMirror(paths), podEtcDir(paths, etc), keep, podEtcDir(paths, etc), '/etc', ...binds, '--', ...argv]);
}
