import type { WaypointRef, Workload } from '../../lib/model/index.js';
import { isCapturedPod } from '../../lib/capture-mode.js';
import { ANNOTATION_NETNS, LABEL_MTLS_MODE } from '../../lib/names.js';
import type { PodObject } from '../sources/schemas.js';
import { workloadOwnerName } from './workload-owner.js';

// A Pod → the Workload the data planes see (compile.ts decides which pods to recompile and when).

const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

/** What a pod's Workload depends on beyond the pod itself. */
export interface WorkloadContext {
  readonly namespaceLabels: Record<string, string>;
  /** The waypoint traffic addressed to this pod goes through (waypoint-for workload|all), if any. */
  readonly waypoint: WaypointRef | undefined;
  readonly mtlsModeDefault: Workload['mtlsMode'] | undefined;
}

export function podUid(p: PodObject): string {
  return p.metadata.uid || `${p.metadata.namespace}/${p.metadata.name}`;
}

export function podIps(p: PodObject): string[] {
  const ips = p.status?.podIPs?.map((i) => i.ip).filter((ip) => ip.length > 0) ?? [];
  if (ips.length === 0 && p.status?.podIP) ips.push(p.status.podIP);
  return ips;
}

export function podReady(p: PodObject): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A label value that is not a mode (a typo) falls through to the next level, as Istio's PeerAuthentication UNSET. */
function mtlsModeOf(value: string | undefined): Workload['mtlsMode'] | undefined {
  return value === 'strict' || value === 'permissive' ? value : undefined;
}

export function workloadOf(p: PodObject, ctx: WorkloadContext): Workload {
  const labels = p.metadata.labels ?? {};
  const captured = isCapturedPod({ labels, hostNetwork: p.spec?.hostNetwork }, ctx.namespaceLabels);
  const phase = p.status?.phase && PHASES.has(p.status.phase) ? (p.status.phase as Workload['phase']) : 'Pending';
  const w: Workload = {
    uid: podUid(p),
    name: p.metadata.name,
    namespace: p.metadata.namespace ?? '',
    serviceAccount: p.spec?.serviceAccountName ?? 'default',
    node: p.spec?.nodeName ?? '',
    ips: podIps(p),
    labels,
    captured,
    waypoint: ctx.waypoint,
    ports: (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((cp) => ({ name: cp.name, port: cp.containerPort, protocol: cp.protocol ?? 'TCP' }))),
    phase,
    ready: podReady(p),
    netns: p.metadata.annotations?.[ANNOTATION_NETNS],
    mtlsMode: mtlsModeOf(labels[LABEL_MTLS_MODE]) ?? mtlsModeOf(ctx.namespaceLabels[LABEL_MTLS_MODE]) ?? ctx.mtlsModeDefault ?? 'permissive',
    workloadName: workloadOwnerName(p.metadata),
  };
  // Absent rather than undefined: fingerprints and the wire form must agree.
  if (w.waypoint === undefined) delete w.waypoint;
  if (w.netns === undefined) delete w.netns;
  if (w.workloadName === undefined) delete w.workloadName;
  return w;
}
