import type { AuthzDecision } from '../../lib/authz/index.js';
import type { ExplainEndpoint, ExplainWorkload, InboundExplain, OutboundExplain, WaypointExplain } from '../../lib/admin/index.js';
import type { AdminComponent } from './admin-target.js';

/**
 * `weft explain`: asks each component on the path what it would do, in the order a connection meets them
 * (the source's node agent, the waypoint, the destination's node agents), and joins the answers into one
 * path with a verdict. Every decision comes from a component's admin endpoint
 * (lib/admin/explain-contract.ts); this module only chooses whom to ask next and words the outcome.
 */
export interface ExplainRequest {
  /** `<namespace>/<name>` of the source pod. */
  readonly pod: string;
  /** Node the source pod is scheduled on. */
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
}

/** How to ask one component: GET `path` with `query` at its admin endpoint. */
export type AskComponent = <T>(c: AdminComponent, path: string, query: Readonly<Record<string, string | number | undefined>>) => Promise<T>;

/** The destination side of one endpoint: its node agent's L4 verdict for the peer that reaches it. */
export interface DestinationHop {
  readonly endpoint: string;
  readonly workload: ExplainWorkload | undefined;
  /** The identity the destination agent sees: the source's, the waypoint's, or none (plaintext). */
  readonly peer: string | undefined;
  /** Undefined when the destination is not captured: nothing enforces policy there. */
  readonly inbound: InboundExplain | undefined;
}

export type Outcome = 'ALLOW' | 'DENY' | 'REFUSE' | 'NO_ROUTE';

export interface Verdict {
  readonly outcome: Outcome;
  /** `<ns>/<name>` of the deciding policy, when one decided. */
  readonly policy: string | undefined;
  /** Where it is decided: `waypoint demo/waypoint`, `node agent n2 (demo/web-1)`, `node agent n1 (source)`. */
  readonly at: string | undefined;
  /** One sentence: what would happen. */
  readonly summary: string;
}

export interface Explanation {
  readonly request: { readonly source: string; readonly destination: string; readonly method: string; readonly path: string };
  readonly source: OutboundExplain['source'];
  readonly destination: OutboundExplain['destination'];
  readonly route: OutboundExplain['route'];
  /** The Service's endpoints as the source agent knows them. */
  readonly endpoints: readonly ExplainEndpoint[];
  readonly waypoint: WaypointExplain | undefined;
  readonly hops: readonly DestinationHop[];
  readonly verdict: Verdict;
}

export async function explainPath(req: ExplainRequest, ask: AskComponent): Promise<Explanation> {
  const agent = (node: string): AdminComponent => ({ kind: 'agent', node });
  const out = await ask<OutboundExplain>(agent(req.node), '/debug/explain/outbound', { pod: req.pod, host: req.host, port: req.port });
  const base = {
    request: { source: req.pod, destination: `${req.host}:${req.port}`, method: req.method, path: req.path },
    source: out.source,
    destination: out.destination,
    route: out.route,
    endpoints: out.endpoints,
  };
  const srcIp = out.source.ip;
  const inMesh = out.source.captured && out.source.enrolled;
  // Where the connection lands: the Service's ready endpoints, else the destination pod itself.
  const landing = (eps: readonly ExplainEndpoint[]): ExplainEndpoint[] => {
    if (out.destination.service) return eps.filter((e) => e.ready);
    const w = out.destination.workload;
    return w ? [{ address: out.destination.address, port: out.destination.port, ready: true, workload: w }] : [];
  };
  const hopsFor = (eps: readonly ExplainEndpoint[], peer: string | undefined): Promise<DestinationHop[]> =>
    Promise.all(
      eps.map(async (e): Promise<DestinationHop> => {
        const endpoint = `${e.address}:${e.port}`;
        if (!e.workload?.captured) return { endpoint, workload: e.workload, peer, inbound: undefined };
        const inbound = await ask<InboundExplain>(agent(e.workload.node), '/debug/explain/inbound', { ip: e.address, port: e.port, principal: peer, sourceIp: srcIp });
        return { endpoint, workload: e.workload, peer, inbound };
      }),
    );

  if (!inMesh) {
    // Not captured: the pod's packets leave unchanged, in plaintext; a captured destination sees no identity.
    const hops = await hopsFor(landing(out.endpoints), undefined);
    const why = out.source.captured ? 'the node agent has not enrolled it (no capture in its network namespace)' : 'it is not captured (weft.dev/dataplane-mode)';
    return { ...base, waypoint: undefined, hops, verdict: fromHops(hops, `${req.pod} is outside the mesh: ${why}; it connects in plaintext`) };
  }
  const r = out.route;
  if (r.kind === 'refuse') {
    return { ...base, waypoint: undefined, hops: [], verdict: { outcome: 'REFUSE', policy: undefined, at: `node agent ${req.node} (source)`, summary: `the source's node agent refuses the connection: ${r.code}: ${r.message}` } };
  }
  if (r.kind === 'passthrough') {
    const hops = await hopsFor(landing(out.endpoints), undefined);
    return { ...base, waypoint: undefined, hops, verdict: fromHops(hops, `the destination is not in the mesh: the source's node agent passes the connection through to ${r.address}:${r.port} in plaintext`) };
  }
  if (r.via === 'direct' || r.waypoint === undefined) {
    const hops = await hopsFor(landing(out.endpoints), out.source.identity);
    return { ...base, waypoint: undefined, hops, verdict: fromHops(hops, `HBONE (mTLS) from ${out.source.identity} straight to the destination's node agent`) };
  }
  const wp = r.waypoint;
  const w = await ask<WaypointExplain>({ kind: 'waypoint', namespace: wp.namespace, name: wp.name }, '/debug/explain', {
    authority: r.authority,
    principal: out.source.identity,
    sourceIp: srcIp,
    method: req.method,
    path: req.path,
    host: req.host,
  });
  const at = `waypoint ${wp.namespace}/${wp.name}`;
  if (!w.decision.allowed) {
    return { ...base, waypoint: w, hops: [], verdict: denied(w.decision, at, `${req.method} ${req.path}: the client gets 403 (x-weft-reason: policy_denied)`) };
  }
  if (w.route.kind === 'none') {
    return { ...base, waypoint: w, hops: [], verdict: { outcome: 'NO_ROUTE', policy: undefined, at, summary: `routes apply to ${w.service.namespace}/${w.service.name}:${w.service.port} but none matches ${req.method} ${req.path}: the client gets 404` } };
  }
  const seen = new Set<string>();
  const eps = w.route.backends.flatMap((b) => b.endpoints).filter((e) => !seen.has(`${e.address}:${e.port}`) && seen.add(`${e.address}:${e.port}`));
  const hops = await hopsFor(eps, w.waypoint.identity ?? r.peerIdentity);
  const via = w.route.kind === 'route' ? `route ${w.route.name} rule ${w.route.rule}` : 'no route (pass-through to the Service)';
  return { ...base, waypoint: w, hops, verdict: fromHops(hops, `through ${at}, allowed at L7 (${w.decision.reason}), ${via}`) };
}

function denied(d: AuthzDecision, at: string, what: string): Verdict {
  const by = d.policy !== undefined ? `${d.policy}${d.rule !== undefined ? ` rule ${d.rule}` : ''}` : d.reason;
  return { outcome: 'DENY', policy: d.policy, at, summary: `denied at ${at} by ${by}; ${what}` };
}

/** The verdict once the destinations have spoken: the first denial decides; else allowed as `path` says. */
function fromHops(hops: readonly DestinationHop[], path: string): Verdict {
  const deny = hops.filter((h) => h.inbound && !h.inbound.decision.allowed);
  const first = deny[0];
  if (first?.inbound) {
    const where = `node agent ${first.inbound.workload.node} (${first.inbound.workload.namespace}/${first.inbound.workload.name})`;
    const share = hops.length > 1 ? ` at ${deny.length} of ${hops.length} endpoints` : '';
    return denied(first.inbound.decision, where, `${path}; the destination's node agent resets the connection${share}`);
  }
  if (hops.length === 0) return { outcome: 'REFUSE', policy: undefined, at: undefined, summary: `${path}, but no ready endpoint: the connection is refused` };
  const policies = [...new Set(hops.flatMap((h) => (h.inbound?.decision.policy ? [h.inbound.decision.policy] : [])))];
  return { outcome: 'ALLOW', policy: policies.join(',') || undefined, at: undefined, summary: `${path}; allowed${policies.length > 0 ? ` by ${policies.join(', ')}` : ' (no policy applies)'}` };
}
