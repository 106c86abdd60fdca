import type { Resource } from '../../api/gen/weft/v1/resources.js';
import type { AuthorizationPolicy, ResourceKind, Service } from '../../lib/model/index.js';
import type { WatchResponse } from '../../api/gen/weft/v1/discovery.js';

// Scoping (what a watcher receives):
// - node agent (`node`): every Workload, Service and Authorization, and the TrustBundle; no RouteTables.
//   Workloads are not cut down to the node: outbound traffic may address any pod IP directly, and the
//   agent must know every destination's identity and node to tunnel to it. This is the simplest correct
//   scope; per-node slimming is a later optimisation.
// - waypoint (`waypoint` = ns/name): its own RouteTable; every Service (route backends may name any);
//   the Workloads that are endpoints of some Service, and every captured Workload (any of them may be a
//   client: the waypoint names its source_workload in metrics from the peer's IP and identity); the Authorization policies that target its
//   Gateway, a Service bound to it, or a namespace holding such a Service; the TrustBundle.

export type WatchScope = { type: 'node'; node: string } | { type: 'waypoint'; namespace: string; name: string };

type Value = object;
/** The compiler's Services by key (compile.ts `services`). */
type Services = ReadonlyMap<string, { readonly value: Service }>;

/** Per-flush memo shared by every watcher of one flush (or one snapshot). */
export interface ScopeContext {
  /** Delta messages built in this flush, by scope + content, shared between watchers. */
  messages?: Map<string, WatchResponse>;
  /** Uids of workloads that are some Service's endpoint (waypoint scope); built lazily per flush. */
  endpointUids?: Set<string>;
  /** Per waypoint key: namespaces / service keys bound to it. */
  bound?: Map<string, { namespaces: Set<string>; services: Set<string> }>;
  /** Wire form of the values converted in this flush (or snapshot), shared between watchers. */
  protos?: Map<Value, Resource>;
}

/** Whether a watcher of `scope` receives this compiled value. */
export function inScope(scope: WatchScope, kind: ResourceKind, value: Value, ctx: ScopeContext, services: Services): boolean {
  if (kind === 'TrustBundle') return true;
  if (scope.type === 'node') return kind !== 'RouteTable';
  const { namespace, name } = scope;
  switch (kind) {
    case 'Service':
      return true;
    case 'RouteTable': {
      const t = value as { namespace: string; name: string };
      return t.namespace === namespace && t.name === name;
    }
    case 'Workload': {
      if (!ctx.endpointUids) {
        ctx.endpointUids = new Set();
        for (const e of services.values()) for (const ep of e.value.endpoints) ctx.endpointUids.add(ep.workloadUid);
      }
      const w = value as { uid: string; captured?: boolean };
      return w.captured === true || ctx.endpointUids.has(w.uid);
    }
    case 'Authorization': {
      const b = boundTo(`${namespace}/${name}`, ctx, services);
      const p = value as AuthorizationPolicy;
      return p.targets.some((t) => {
        if (t.kind === 'gateway') return p.namespace === namespace && t.name === name;
        if (t.kind === 'service') return b.services.has(`${p.namespace}/${t.name}`);
        return b.namespaces.has(p.namespace);
      });
    }
    default:
      return false;
  }
}

/** Whether this scope's share of `kind` can change without the objects of `kind` changing. */
export function scopeDependsOnServices(scope: WatchScope, kind: ResourceKind): boolean {
  return scope.type === 'waypoint' && (kind === 'Workload' || kind === 'Authorization');
}

function boundTo(waypoint: string, ctx: ScopeContext, services: Services): { namespaces: Set<string>; services: Set<string> } {
  if (!ctx.bound) {
    ctx.bound = new Map();
    for (const [key, e] of services) {
      const wp = e.value.waypoint;
      if (!wp) continue;
      const wk = `${wp.namespace}/${wp.name}`;
      let b = ctx.bound.get(wk);
      if (!b) ctx.bound.set(wk, (b = { namespaces: new Set(), services: new Set() }));
      b.namespaces.add(e.value.namespace);
      b.services.add(key);
    }
  }
  return ctx.bound.get(waypoint) ?? { namespaces: new Set(), services: new Set() };
}
