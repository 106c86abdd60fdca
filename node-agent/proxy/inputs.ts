import type { AuthzPolicies, DryRunRecorder } from '../../lib/authz/index.js';
import type { Registry } from 'prom-client';
import type { PeerWorkloads, StateView, Workload } from '../../lib/model/index.js';
import type { EndpointServices } from './endpoint-services.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { SocketFactory } from '../netns/socket-factory.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { Connections } from './connections.js';
import type { HbonePools } from './hbone-pools.js';
import type { PeakEwmaBalancer } from './p2c.js';
import type { ReadyGate } from './ready-gate.js';
import type { StrictMtls } from './strict-mtls.js';
import type { WorkloadTls } from './workload-tls.js';

/** What every listener of every pod shares (ztunnel's ProxyInputs). */
export interface ProxyInputs {
  readonly view: StateView;
  readonly tls: WorkloadTls;
  readonly pool: HbonePools;
  readonly balancer: PeakEwmaBalancer;
  /** Compiled AuthorizationPolicies, selected per destination workload (L4). */
  readonly authz: AuthzPolicies;
  /** Logs and counts the would-be verdict of dry-run AuthorizationPolicies (never enforced). */
  readonly dryRun: DryRunRecorder;
  readonly connections: Connections;
  /** A peer's owning workload from its identity and IP (metric labels: never a pod name). */
  readonly peers: PeerWorkloads;
  /** The Service a local destination pod serves on a port (destination_service at the destination). */
  readonly endpointServices: EndpointServices;
  /** Bounds the connections held per pod and per source (counted from accept). */
  readonly limits: ConnectionLimits;
  readonly log: Logger;
  /** Holds pod listeners' connections until the agent is ready (restart); absent = always ready. */
  readonly gate?: ReadyGate;
  /** Settings of the pods' HBONE servers (absent: lib/hbone defaults, no metrics). */
  readonly hboneServer?: { readonly sessionIdleMs?: number; readonly registry?: Registry };
  /** Refuses (and counts) plaintext to workloads in strict mTLS mode. */
  readonly strictMtls: StrictMtls;
}

/** The enrolled pod a listener serves. */
export interface PodContext {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  /** Creates sockets inside this pod's netns, marked. */
  readonly factory: SocketFactory;
  /** The pod's Workload from cluster state, once known. */
  workload(): Workload | undefined;
}

/** SPIFFE ID string of a workload. */
export function identityOf(trustDomain: string, w: Workload): string {
  return `spiffe://${trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}

