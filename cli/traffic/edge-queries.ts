import type { VectorSample } from '../prometheus/prometheus-client.js';
import { eq, sumIncrease } from '../prometheus/promql.js';

/**
 * What `weft edges` asks Prometheus, and the edges it makes of the answers: who talked to whom in the
 * window, by workload and SPIFFE identity at both ends (docs/metrics.md):
 * - connections from the destination's node agent (`weft_tcp_connections_opened_total`,
 *   reporter="destination": it sees every connection into a captured pod, mutual TLS or not) and, for a
 *   destination outside the mesh, from the source's (reporter="source", connection_security_policy="none");
 *   denied ones are those that ended with the DENY flag (`weft_tcp_connections_closed_total`);
 * - requests through waypoints (`weft_requests_total`, reporter="waypoint"), from the client to the
 *   workload that answered; a request refused at the waypoint reached no workload and is counted against
 *   the Service it asked for; denied ones carry the DENY flag;
 * - per policy, the waypoints' denials (`weft_waypoint_denied_total`) and the dry-run verdicts
 *   (`weft_authz_dry_run_total`): these metrics name the policy but not the peers, so they are not per edge.
 * Counts are `increase` over the window, which Prometheus extrapolates to the window's edges.
 */
const ENDS = ['source_workload', 'source_workload_namespace', 'source_principal', 'destination_workload', 'destination_workload_namespace', 'destination_principal'];
const CSP = 'connection_security_policy';
const SERVICE = ['destination_service_namespace', 'destination_service_name'];

export interface EdgeQueries {
  readonly connections: string;
  readonly plaintextOut: string;
  readonly deniedConnections: string;
  readonly requests: string;
  readonly deniedRequests: string;
  readonly policyDenials: string;
  readonly dryRun: string;
}

export type EdgeAnswers = { readonly [K in keyof EdgeQueries]: readonly VectorSample[] };

export function edgeQueries(window: string): EdgeQueries {
  const deny = eq('response_flags', 'DENY');
  return {
    connections: sumIncrease('weft_tcp_connections_opened_total', [eq('reporter', 'destination')], [...ENDS, CSP], window),
    plaintextOut: sumIncrease('weft_tcp_connections_opened_total', [eq('reporter', 'source'), eq(CSP, 'none')], [...ENDS, CSP], window),
    deniedConnections: sumIncrease('weft_tcp_connections_closed_total', [eq('reporter', 'destination'), deny], ENDS, window),
    requests: sumIncrease('weft_requests_total', [eq('reporter', 'waypoint')], [...ENDS, ...SERVICE, CSP], window),
    deniedRequests: sumIncrease('weft_requests_total', [eq('reporter', 'waypoint'), deny], [...ENDS, ...SERVICE], window),
    policyDenials: sumIncrease('weft_waypoint_denied_total', [], ['policy', 'rule'], window),
    dryRun: sumIncrease('weft_authz_dry_run_total', [], ['policy', 'rule', 'verdict'], window),
  };
}

export interface EdgeEnd {
  readonly namespace: string;
  /** The owning Deployment/StatefulSet/DaemonSet; `unknown` for a peer that is not a known pod. */
  readonly workload: string;
  /** The SPIFFE ID it proved; `unknown` without mutual TLS. */
  readonly principal: string;
  /** Set when no workload answered (a request refused at a waypoint): the Service that was asked for. */
  readonly service?: string;
}

export interface Edge {
  readonly source: EdgeEnd;
  readonly destination: EdgeEnd;
  /** Connections opened in the window (node agents). */
  readonly connections: number;
  /** Requests in the window (waypoints). */
  readonly requests: number;
  readonly denied: { readonly connections: number; readonly requests: number };
  /** Share of the connections and requests with mutual TLS, 0..1. */
  readonly mtlsRate: number;
}

export interface PolicyVerdicts {
  readonly policy: string;
  readonly rule: string;
  /** Requests denied by it at waypoints. */
  readonly denied: number;
  /** Dry-run verdicts (connections at node agents, requests at waypoints). */
  readonly wouldDeny: number;
  readonly wouldAllow: number;
}

const UNKNOWN = 'unknown';

function ends(m: Readonly<Record<string, string>>): { source: EdgeEnd; destination: EdgeEnd } {
  const destination: EdgeEnd = { namespace: m.destination_workload_namespace ?? UNKNOWN, workload: m.destination_workload ?? UNKNOWN, principal: m.destination_principal ?? UNKNOWN };
  const service = m.destination_service_name;
  return {
    source: { namespace: m.source_workload_namespace ?? UNKNOWN, workload: m.source_workload ?? UNKNOWN, principal: m.source_principal ?? UNKNOWN },
    destination: destination.workload === UNKNOWN && service !== undefined && service !== '' && service !== UNKNOWN ? { namespace: m.destination_service_namespace ?? UNKNOWN, workload: UNKNOWN, principal: destination.principal, service } : destination,
  };
}

const endKey = (e: EdgeEnd): string => `${e.namespace}/${e.workload}/${e.service ?? ''}/${e.principal}`;

interface Tally {
  source: EdgeEnd;
  destination: EdgeEnd;
  connections: number;
  requests: number;
  deniedConnections: number;
  deniedRequests: number;
  mtls: number;
}

/**
 * The edges with traffic in the window, touching `namespace` (undefined: all), sorted by source then
 * destination; and the per-policy verdicts of policies in `namespace`.
 */
export function edgesOf(a: EdgeAnswers, namespace: string | undefined): { edges: Edge[]; policies: PolicyVerdicts[] } {
  const tallies = new Map<string, Tally>();
  const add = (samples: readonly VectorSample[], count: (t: Tally, n: number, m: Readonly<Record<string, string>>) => void): void => {
    for (const s of samples) {
      if (!Number.isFinite(s.value)) continue;
      const e = ends(s.metric);
      const key = `${endKey(e.source)} ${endKey(e.destination)}`;
      let t = tallies.get(key);
      if (!t) tallies.set(key, (t = { ...e, connections: 0, requests: 0, deniedConnections: 0, deniedRequests: 0, mtls: 0 }));
      count(t, s.value, s.metric);
    }
  };
  const mtls = (m: Readonly<Record<string, string>>): boolean => m[CSP] === 'mutual_tls';
  add(a.connections, (t, n, m) => ((t.connections += n), (t.mtls += mtls(m) ? n : 0)));
  add(a.plaintextOut, (t, n) => (t.connections += n));
  add(a.deniedConnections, (t, n) => (t.deniedConnections += n));
  add(a.requests, (t, n, m) => ((t.requests += n), (t.mtls += mtls(m) ? n : 0)));
  add(a.deniedRequests, (t, n) => (t.deniedRequests += n));
  const touches = (t: Tally): boolean => namespace === undefined || t.source.namespace === namespace || t.destination.namespace === namespace;
  const edges = [...tallies.values()]
    .filter((t) => Math.round(t.connections) + Math.round(t.requests) > 0 && touches(t))
    .map((t): Edge => ({
      source: t.source,
      destination: t.destination,
      connections: Math.round(t.connections),
      requests: Math.round(t.requests),
      denied: { connections: Math.round(t.deniedConnections), requests: Math.round(t.deniedRequests) },
      mtlsRate: Math.min(1, t.mtls / (t.connections + t.requests)),
    }))
    .sort((x, y) => endKey(x.source).localeCompare(endKey(y.source)) || endKey(x.destination).localeCompare(endKey(y.destination)));
  return { edges, policies: policyVerdicts(a, namespace) };
}

function policyVerdicts(a: EdgeAnswers, namespace: string | undefined): PolicyVerdicts[] {
  const byPolicy = new Map<string, { policy: string; rule: string; denied: number; wouldDeny: number; wouldAllow: number }>();
  const at = (m: Readonly<Record<string, string>>): { policy: string; rule: string; denied: number; wouldDeny: number; wouldAllow: number } => {
    const policy = m.policy ?? 'none';
    const rule = m.rule ?? 'none';
    const key = `${policy} ${rule}`;
    let v = byPolicy.get(key);
    if (!v) byPolicy.set(key, (v = { policy, rule, denied: 0, wouldDeny: 0, wouldAllow: 0 }));
    return v;
  };
  for (const s of a.policyDenials) if (Number.isFinite(s.value)) at(s.metric).denied += s.value;
  for (const s of a.dryRun) {
    if (!Number.isFinite(s.value)) continue;
    const v = at(s.metric);
    if (s.metric.verdict === 'would_deny') v.wouldDeny += s.value;
    else if (s.metric.verdict === 'would_allow') v.wouldAllow += s.value;
  }
  // A policy is `namespace/name`; when no ALLOW policy matched, the label lists all of them, comma-separated.
  const inNamespace = (policy: string): boolean => namespace === undefined || policy.split(',').some((p) => p.startsWith(`${namespace}/`));
  return [...byPolicy.values()]
    .map((v) => ({ ...v, denied: Math.round(v.denied), wouldDeny: Math.round(v.wouldDeny), wouldAllow: Math.round(v.wouldAllow) }))
    .filter((v) => v.denied + v.wouldDeny + v.wouldAllow > 0 && inNamespace(v.policy))
    .sort((x, y) => x.policy.localeCompare(y.policy) || x.rule.localeCompare(y.rule));
}
