import type { AuthorizationPolicy, StateView, Workload } from '../model/index.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { EMPTY_POLICY_SET, PolicySet } from './evaluate.js';
import { appliesAtWaypoint, appliesToWorkload } from './select.js';

// The compiled policies of one data-plane process, derived from its state view. A policy is compiled
// once per version the store holds (the store keeps an unchanged policy's object across deltas), and
// the set for a workload or Service is selected once per state change: a connection or request only
// reads a map or compares a generation.

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
}

export class AuthzPolicies {
  private compiled = new WeakMap<AuthorizationPolicy, CompiledPolicy>();
  private compiledTrustDomain: string | undefined;
  private generation = -1;
  private byWorkload = new Map<string, PolicySet>();
  private byService = new Map<string, WaypointPolicies>();
  private compileCount = 0;

  /** `trustDomain`: the local trust domain, read when state changes (it completes `ns/<ns>/sa/<sa>`). */
  constructor(
    private readonly view: StateView,
    private readonly trustDomain: () => string,
  ) {}

  /** How many policy compilations ran so far (for tests and the config dump). */
  get compilations(): number {
    return this.compileCount;
  }

  /** The policies the node agent enforces (L4) for connections to `workload`. */
  forWorkload(workload: Workload): PolicySet {
    this.refresh();
    let set = this.byWorkload.get(workload.uid);
    if (!set) {
      const list = this.view.policiesIn(workload.namespace).filter((p) => appliesToWorkload(p, this.view, workload));
      this.byWorkload.set(workload.uid, (set = this.setOf(list)));
    }
    return set;
  }

  /**
   * The policies waypoint `gateway` enforces (L7) for requests to `service`, as a handle that follows
   * state changes: a long-lived connection holds it, and each request sees the current policies.
   */
  atWaypoint(gateway: GatewayRef, service: GatewayRef): WaypointPolicies {
    this.refresh();
    const key = `${gateway.namespace}/${gateway.name}>${service.namespace}/${service.name}`;
    let h = this.byService.get(key);
    if (!h) this.byService.set(key, (h = new WaypointPolicies(this, gateway, service)));
    return h;
  }

  /** @internal Selects and compiles for a WaypointPolicies handle. */
  selectAtWaypoint(gateway: GatewayRef, service: GatewayRef): PolicySet {
    this.refresh();
    const candidates = [...this.view.policiesIn(gateway.namespace)];
    if (service.namespace !== gateway.namespace) candidates.push(...this.view.policiesIn(service.namespace));
    return this.setOf(candidates.filter((p) => appliesAtWaypoint(p, gateway, service)));
  }

  /** @internal The state generation the current selections belong to. */
  get stateGeneration(): number {
    return this.view.generation;
  }

  private refresh(): void {
    if (this.view.generation === this.generation) return;
    this.generation = this.view.generation;
    // Handles already given out stay valid (they re-select themselves); new ones start afresh, so a
    // removed Service's handle is not kept.
    this.byWorkload = new Map();
    this.byService = new Map();
    const td = this.trustDomain();
    if (td !== this.compiledTrustDomain) {
      this.compiledTrustDomain = td;
      this.compiled = new WeakMap();
    }
  }

  private setOf(list: readonly AuthorizationPolicy[]): PolicySet {
    if (list.length === 0) return EMPTY_POLICY_SET;
    return new PolicySet(list.map((p) => this.compile(p)));
  }

  private compile(p: AuthorizationPolicy): CompiledPolicy {
    let c = this.compiled.get(p);
    if (!c) {
      this.compileCount++;
      this.compiled.set(p, (c = compilePolicy(p, this.compiledTrustDomain!)));
    }
    return c;
  }
}

/** The policies a waypoint enforces for one Service, re-selected when the state changes. */
export class WaypointPolicies {
  private generation = -1;
  private set: PolicySet = EMPTY_POLICY_SET;

  constructor(
    private readonly owner: AuthzPolicies,
    readonly gateway: GatewayRef,
    readonly service: GatewayRef,
  ) {}

  current(): PolicySet {
    const g = this.owner.stateGeneration;
    if (g !== this.generation) {
      this.set = this.owner.selectAtWaypoint(this.gateway, this.service);
      this.generation = g;
    }
    return this.set;
  }
}
