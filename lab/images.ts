import { WeftError } from '../lib/errors/index.js';

/**
 * The lab runs programs from this repository instead of container images. An image names one of them;
 * its registry and tag are ignored (`ghcr.io/x/weft-waypoint:0.1` is the waypoint). `debian` runs the
 * container's command with the host's Debian userland inside the pod's namespace (a client pod). `weft`
 * is the chart's one image (Dockerfile: the repository with its `dist/`, working directory at its root):
 * its container's command (`node dist/cni/install.js`, ...) runs from the repository root with this Node.
 */
export type Program =
  | { readonly kind: 'node'; readonly entry: string }
  | { readonly kind: 'repo' }
  | { readonly kind: 'host' };

const PROGRAMS: Readonly<Record<string, Program>> = {
  'node-agent': { kind: 'node', entry: 'node-agent/main.js' },
  waypoint: { kind: 'node', entry: 'waypoint/main.js' },
  control: { kind: 'node', entry: 'control/main.js' },
  'http-echo': { kind: 'node', entry: 'lab/apps/http-echo.js' },
  'grpc-echo': { kind: 'node', entry: 'lab/apps/grpc-echo.js' },
  'tcp-echo': { kind: 'node', entry: 'lab/apps/tcp-echo.js' },
  loadgen: { kind: 'node', entry: 'lab/apps/loadgen.js' },
  debian: { kind: 'host' },
  weft: { kind: 'repo' },
};

/** `ghcr.io/org/weft-waypoint:1.2@sha256:..` → `waypoint`. */
export function imageBaseName(image: string): string {
  let s = image.split('@')[0];
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  const last = s.slice(slash + 1);
  return last.startsWith('weft-') ? last.slice(5) : last;
}

export function programFor(image: string, podRef: string): Program {
  const p = PROGRAMS[imageBaseName(image)];
  if (!p) throw new WeftError('ERR_WEFT_LAB_UNKNOWN_IMAGE', { image, pod: podRef });
  return p;
}
