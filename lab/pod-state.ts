import type { ChildProcess } from 'node:child_process';
import type { CniResult } from './cni-chain.js';
import type { Container, KubeObject } from './manifests.js';
import type { ProbeLoop } from './probes.js';
import type { TokenRefresher } from './token-refresh.js';

// What the lab's kubelet knows of each pod it runs, and the Pod status it reports from that.

export interface RuntimeRecord {
  namespace: string;
  name: string;
  uid: string;
  /** The pod's own network namespace; for a hostNetwork pod only the name of its /etc (pod-etc.ts). */
  netns: string;
  /** hostNetwork: the node's namespace the pod runs in (no sandbox namespace, no CNI; podIP = node IP). */
  hostNetns?: string;
  containerId: string;
  ip?: string;
  result?: CniResult;
}

export interface ContainerState {
  readonly spec: Container;
  child?: ChildProcess;
  procId: string;
  restarts: number;
  running: boolean;
  ready: boolean;
  startedAt?: string;
  lastExit?: { code: number | null; signal: string | null; at: string };
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
  /** Its volumes could not be set up yet (a ConfigMap not there yet): retried, not a restart (ContainerCreating). */
  mountPending?: boolean;
  readiness?: ProbeLoop;
  liveness?: ProbeLoop;
  error?: string;
}

export interface PodState {
  readonly key: string;
  readonly obj: KubeObject;
  readonly rec: RuntimeRecord;
  containers: ContainerState[];
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  reason?: string;
  message?: string;
  startTime: string;
  stopping: boolean;
  sandboxReady: boolean;
  retryTimer?: NodeJS.Timeout;
  sandboxBackoffMs: number;
  /** Keeps the pod's projected ServiceAccount tokens fresh; stopped with the pod. */
  tokens?: TokenRefresher;
  lastStatus?: string;
}

/** Why a container is not running yet; the message is its own error, else the pod's (an image the lab cannot run). */
function waitingState(st: PodState, c: ContainerState): { reason: string; message?: string } {
  const message = c.error ?? st.message;
  return { reason: c.restartTimer && c.mountPending !== true ? 'CrashLoopBackOff' : (st.reason ?? 'ContainerCreating'), ...(message !== undefined ? { message } : {}) };
}

/** The Pod's `status` as a kubelet reports it: phase, conditions, container states, IPs. */
export function podStatus(st: PodState, hostIp: string, now: string): Record<string, unknown> {
  const containersReady = st.sandboxReady && st.containers.every((c) => c.running && c.ready);
  const cond = (type: string, ok: boolean): { type: string; status: string; lastTransitionTime: string } => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
  const status: Record<string, unknown> = {
    phase: st.phase,
    hostIP: hostIp,
    hostIPs: [{ ip: hostIp }],
    startTime: st.startTime,
    conditions: [
      cond('PodScheduled', true),
      cond('Initialized', true),
      cond('ContainersReady', containersReady),
      cond('Ready', containersReady && st.phase === 'Running'),
    ],
    containerStatuses: st.containers.map((c) => ({
      name: c.spec.name,
      image: c.spec.image,
      ready: c.running && c.ready,
      started: c.running,
      restartCount: c.restarts,
      state: c.running
        ? { running: { startedAt: c.startedAt } }
        : c.lastExit && !c.restartTimer
          ? { terminated: { exitCode: c.lastExit.code ?? 137, finishedAt: c.lastExit.at } }
          : { waiting: waitingState(st, c) },
    })),
  };
  if (st.rec.ip) {
    status.podIP = st.rec.ip;
    status.podIPs = [{ ip: st.rec.ip }];
  }
  if (st.reason) status.reason = st.reason;
  if (st.message) status.message = st.message;
  return status;
}

/** The namespace a pod's processes and probes run in. */
export function runNetns(rec: RuntimeRecord): string {
  return rec.hostNetns ?? rec.netns;
}
