import { z } from 'zod';

// The typed model every data plane reads. The control plane compiles Kubernetes objects into these; a
// node agent's --local-config file holds them directly. Keys are stable strings (see `keyOf`).

export const WaypointRefSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  /** The waypoint's address: its Service VIP (node agents tunnel to a ready replica among that Service's
   *  endpoints, node-agent/proxy/waypoint-hops.ts) or a pod IP. */
  address: z.string(),
  /** SPIFFE ID the waypoint must present. */
  identity: z.string(),
});
export type WaypointRef = z.infer<typeof WaypointRefSchema>;

export const WorkloadPortSchema = z.object({
  name: z.string().optional(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
});

export const WorkloadSchema = z.object({
  /** Pod UID. */
  uid: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().min(1),
  serviceAccount: z.string().min(1).default('default'),
  node: z.string().default(''),
  ips: z.array(z.string()).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  /** Decided by the control plane from the pod's and namespace's `weft.dev/dataplane-mode` labels. */
  captured: z.boolean().default(false),
  /** Set when traffic addressed to this workload itself must go through a waypoint (waypoint-for workload|all). */
  waypoint: WaypointRefSchema.optional(),
  ports: z.array(WorkloadPortSchema).default([]),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).default('Running'),
  ready: z.boolean().default(true),
  /** Path of the pod's network namespace when known (the lab: /var/run/netns/<name>). */
  netns: z.string().optional(),
  /** Effective `weft.dev/mtls-mode` (pod label, else namespace label, else the mesh default): `strict`
   *  refuses plaintext from peers outside the mesh at this workload's node agent. */
  mtlsMode: z.enum(['strict', 'permissive']).default('permissive'),
  /** The owning Deployment/StatefulSet/DaemonSet/Job/CronJob (control/discovery/workload-owner.ts); absent for a bare pod. */
  workloadName: z.string().min(1).optional(),
});
export type Workload = z.infer<typeof WorkloadSchema>;

/**
 * The `*_workload` metric label of a pod (Istio's semantics): its owner's name, so that the series survive
 * pod restarts and rollouts; a pod without an owner is its own workload.
 */
export function workloadLabelOf(w: Pick<Workload, 'name' | 'workloadName'>): string {
  return w.workloadName ?? w.name;
}

export const ServicePortSchema = z.object({
  name: z.string().optional(),
  port: z.number().int().min(1).max(65535),
  /** Resolved numeric target port (named target ports are resolved by the control plane). */
  targetPort: z.number().int().min(1).max(65535),
  /** `http`, `http2`, `grpc`, `tcp`, `kubernetes.io/h2c`, ... from the Service port's appProtocol or name prefix. */
  appProtocol: z.string().optional(),
});
export type ServicePort = z.infer<typeof ServicePortSchema>;

export const EndpointSchema = z.object({
  workloadUid: z.string(),
  address: z.string(),
  ready: z.boolean().default(true),
});
export type Endpoint = z.infer<typeof EndpointSchema>;

export const ServiceSchema = z.object({
  namespace: z.string().min(1),
  name: z.string().min(1),
  vips: z.array(z.string()).default([]),
  ports: z.array(ServicePortSchema).default([]),
  endpoints: z.array(EndpointSchema).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  /** Set when the Service (or its namespace) is labelled `weft.dev/use-waypoint`. */
  waypoint: WaypointRefSchema.optional(),
});
export type Service = z.infer<typeof ServiceSchema>;
