import { LABEL_DATAPLANE_MODE } from './names.js';

/**
 * Whether the mesh captures a pod's traffic (ARCHITECTURE.md, "Names"): the pod's own
 * weft.dev/dataplane-mode (`none` never, `ambient` always), else its namespace's `ambient`; a pod on the
 * host network never. The control plane compiles Workload.captured with it; `weft check` asks it of pods
 * whose node agent it cannot reach.
 */
export function isCapturedPod(pod: { labels: Readonly<Record<string, string>> | undefined; hostNetwork: boolean | undefined }, namespaceLabels: Readonly<Record<string, string>> | undefined): boolean {
  const podMode = pod.labels?.[LABEL_DATAPLANE_MODE];
  return !pod.hostNetwork && podMode !== 'none' && (podMode === 'ambient' || namespaceLabels?.[LABEL_DATAPLANE_MODE] === 'ambient');
}
