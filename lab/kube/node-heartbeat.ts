import { cpus, release, totalmem } from 'node:os';
import type { NodeInfo } from '../topology.js';
import type { NodeApi } from './node-api.js';

/**
 * A lab node in the API server, kept as a kubelet keeps its own: the Node object (registered once, with
 * the node's pod CIDR, address, capacity and labels the NodeRestriction admission plugin lets a node set),
 * its status with a Ready condition whose heartbeat is refreshed every `statusEveryMs`, and the node's
 * Lease in kube-node-lease renewed every `leaseEveryMs` (what the node lifecycle controller reads to
 * decide the node is alive). Until the API server answers it retries every second.
 */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_S = 40;
const RETRY_MS = 1000;
/** What the lab reports as the node's kubelet: the API server's own minor version. */
const KUBELET_VERSION = 'v1.37.2';

export interface NodeHeartbeatOptions {
  readonly api: NodeApi;
  readonly node: NodeInfo;
  readonly lab: string;
  readonly statusEveryMs?: number;
  readonly leaseEveryMs?: number;
}

export class NodeHeartbeat {
  private registered = false;
  private lastStatus = 0;
  private lastLease = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly since = new Date().toISOString();

  constructor(private readonly o: NodeHeartbeatOptions) {}

  start(): void {
    void this.tick();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    const statusEvery = this.o.statusEveryMs ?? 10_000;
    const leaseEvery = this.o.leaseEveryMs ?? 10_000;
    let next = Math.min(statusEvery, leaseEvery);
    try {
      if (!this.registered) await this.register();
      const now = Date.now();
      if (now - this.lastLease >= leaseEvery) {
        await this.renewLease();
        this.lastLease = now;
      }
      if (now - this.lastStatus >= statusEvery) {
        await this.postStatus();
        this.lastStatus = now;
      }
      this.o.api.succeeded();
    } catch (err) {
      this.o.api.failed('node heartbeat', err);
      next = RETRY_MS;
    }
    if (!this.closed) this.timer = setTimeout(() => void this.tick(), next);
  }

  private async register(): Promise<void> {
    const { node } = this.o;
    const res = await this.o.api.call('POST', '/api/v1/nodes', {
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: node.name,
          labels: {
            'kubernetes.io/hostname': node.name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': goArch(),
            'weft.dev/lab': this.o.lab,
          },
        },
        spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
        status: this.status(new Date().toISOString()),
      },
      allow: [409], // registered by an earlier run of this kubelet: its status is posted next
    });
    this.registered = true;
    this.lastStatus = res.status === 409 ? 0 : Date.now();
  }

  private status(now: string): Record<string, unknown> {
    const resources = { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110' };
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: this.since,
    });
    return {
      addresses: [
        { type: 'InternalIP', address: this.o.node.ip },
        { type: 'Hostname', address: this.o.node.name },
      ],
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'the weft lab kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: 'weft lab node',
        containerRuntimeVersion: 'weft-lab://1',
        kubeletVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: goArch(),
      },
    };
  }

  private async postStatus(): Promise<void> {
    await this.o.api.call('PATCH', `/api/v1/nodes/${this.o.node.name}/status`, {
      body: { status: this.status(new Date().toISOString()) },
      contentType: 'application/merge-patch+json',
    });
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`;
    const name = this.o.node.name;
    const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_S, renewTime: microTime(new Date()) };
    const current = await this.o.api.call<{ metadata: Record<string, unknown> }>('GET', `${path}/${name}`, { allow: [404] });
    if (current.status === 404) {
      await this.o.api.call('POST', path, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NODE_LEASE_NAMESPACE }, spec } });
      return;
    }
    // Guarded by its resourceVersion, as the kubelet's lease controller writes it.
    await this.o.api.call('PUT', `${path}/${name}`, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: current.body?.metadata, spec } });
  }
}

/** RFC 3339 with microseconds, the Lease's MicroTime. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Node's architecture as Go (and the kubernetes.io/arch label) names it. */
function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}
