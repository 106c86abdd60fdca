import { z } from 'zod';
import { WorkloadSchema, ServiceSchema, type Workload, type Service } from './workload.js';
import { AuthorizationPolicySchema, type AuthorizationPolicy } from './policy.js';
import { RouteTableSchema, type RouteTable } from './routes.js';

export const TrustBundleSchema = z.object({
  trustDomain: z.string().default('cluster.local'),
  /** PEM roots; several during a root rotation. */
  roots: z.array(z.string()).min(1),
});
export type TrustBundleData = z.infer<typeof TrustBundleSchema>;

/** The kinds carried by the discovery stream (ARCHITECTURE.md, DiscoveryService.Watch). */
export type ResourceKind = 'Workload' | 'Service' | 'Authorization' | 'RouteTable' | 'TrustBundle';
export const RESOURCE_KINDS: readonly ResourceKind[] = ['Workload', 'Service', 'Authorization', 'RouteTable', 'TrustBundle'];

export interface ResourceByKind {
  Workload: Workload;
  Service: Service;
  Authorization: AuthorizationPolicy;
  RouteTable: RouteTable;
  TrustBundle: TrustBundleData;
}

export const schemaByKind = {
  Workload: WorkloadSchema,
  Service: ServiceSchema,
  Authorization: AuthorizationPolicySchema,
  RouteTable: RouteTableSchema,
  TrustBundle: TrustBundleSchema,
} as const;

/** The stable key of a resource within its kind: uid for workloads, `namespace/name` otherwise. */
export function keyOf<K extends ResourceKind>(kind: K, resource: ResourceByKind[K]): string {
  switch (kind) {
    case 'Workload':
      return (resource as Workload).uid;
    case 'TrustBundle':
      return 'default';
    default: {
      const r = resource as { namespace: string; name: string };
      return `${r.namespace}/${r.name}`;
    }
  }
}

/** One change to one kind; `snapshotDone` marks the end of the initial state for that kind. */
export interface Delta<K extends ResourceKind = ResourceKind> {
  readonly kind: K;
  readonly version: string;
  readonly upserts: readonly ResourceByKind[K][];
  /** Keys (see `keyOf`). */
  readonly removes: readonly string[];
  /** True when this delta replaces everything of its kind (a snapshot). */
  readonly replace?: boolean;
  readonly snapshotDone?: boolean;
}
