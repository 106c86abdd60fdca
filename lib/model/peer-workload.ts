import type { StateView } from './store.js';
import { workloadLabelOf, type Workload } from './workload.js';

// Which workload a peer is, for the `source_workload` / `source_workload_namespace` labels (Istio's
// semantics: the owning Deployment/StatefulSet/DaemonSet, never the pod). The peer's verified SPIFFE ID
// is the truth; its IP (from the TCP connection or `forwarded: for=`) picks the pod when it agrees with the
// ID. Without a usable IP the ID alone decides when every pod of that namespace and service account
// belongs to one workload (the usual case: one Deployment per service account). Results are cached per
// principal and state generation, so a connection costs a map read.

export interface PeerWorkload {
  /** The owner's name, or `unknown`. */
  readonly workload: string;
  /** The workload's namespace, else the SPIFFE ID's, or `unknown`. */
  readonly namespace: string;
}

const UNKNOWN: PeerWorkload = Object.freeze({ workload: 'unknown', namespace: 'unknown' });
const SPIFFE = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/;

export class PeerWorkloads {
  private generation = -1;
  private byPrincipal = new Map<string, PeerWorkload>();
  private byWorkload = new WeakMap<Workload, PeerWorkload>();

  constructor(private readonly view: StateView) {}

  /** The peer's workload from its SPIFFE ID (undefined: a plaintext peer) and its IP (may be empty). */
  resolve(principal: string | undefined, ip: string | undefined): PeerWorkload {
    this.refresh();
    const pod = ip ? this.view.workloadByIp(ip) : undefined;
    if (principal === undefined) return pod ? this.of(pod) : UNKNOWN;
    const m = SPIFFE.exec(principal);
    if (pod && m && pod.namespace === m[1] && pod.serviceAccount === m[2]) return this.of(pod);
    let p = this.byPrincipal.get(principal);
    if (p === undefined) {
      p = m ? this.bySa(m[1], m[2]) : UNKNOWN;
      // Bounded: at most one entry per principal seen since the last state change; cleared past 10 000.
      if (this.byPrincipal.size >= 10_000) this.byPrincipal.clear();
      this.byPrincipal.set(principal, p);
    }
    return p;
  }

  /** The labels of a known pod (one object per pod version, shared by its connections). */
  of(w: Workload): PeerWorkload {
    let p = this.byWorkload.get(w);
    if (p === undefined) this.byWorkload.set(w, (p = Object.freeze({ workload: workloadLabelOf(w), namespace: w.namespace })));
    return p;
  }

  private bySa(namespace: string, serviceAccount: string): PeerWorkload {
    let name: string | undefined;
    for (const w of this.view.workloads()) {
      if (w.namespace !== namespace || w.serviceAccount !== serviceAccount) continue;
      const label = workloadLabelOf(w);
      if (name !== undefined && name !== label) return Object.freeze({ workload: 'unknown', namespace });
      name = label;
    }
    return Object.freeze({ workload: name ?? 'unknown', namespace });
  }

  private refresh(): void {
    if (this.view.generation === this.generation) return;
    this.generation = this.view.generation;
    this.byPrincipal = new Map();
  }
}
