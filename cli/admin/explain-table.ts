import type { ExplainWorkload } from '../../lib/admin/index.js';
import type { Explanation } from './explain-path.js';

/** `weft explain` for people: one row per step of the path, in the order the connection meets them. */
export const EXPLAIN_HEADERS = ['STEP', 'DETAIL'] as const;

export function explainRows(e: Explanation): string[][] {
  const rows: string[][] = [];
  const s = e.source;
  rows.push(['source', `${s.namespace}/${s.name} (${s.ip ?? 'no IP'}) on node ${s.node}, ${s.identity}`]);
  rows.push(['captured', s.captured && s.enrolled ? `yes: node agent ${s.node} holds its traffic` : s.captured ? `no: node agent ${s.node} has not enrolled it` : 'no: the pod is not in the mesh (weft.dev/dataplane-mode)']);
  const d = e.destination;
  const svc = d.service ? `Service ${d.service.namespace}/${d.service.name} (${d.address}:${d.port} → target port ${d.service.targetPort ?? '?'})` : d.workload ? `pod ${workload(d.workload)}` : `${d.address}:${d.port} (not a known Service or pod)`;
  rows.push(['destination', `${d.host}:${d.port} → ${svc}`]);
  const r = e.route;
  if (r.kind === 'hbone') rows.push(['path', r.waypoint ? `HBONE to waypoint ${r.waypoint.namespace}/${r.waypoint.name} at ${r.nextHop}, peer ${r.peerIdentity}` : `HBONE to ${r.nextHop}:15008, peer ${r.peerIdentity}`]);
  else if (r.kind === 'passthrough') rows.push(['path', `pass-through in plaintext to ${r.address}:${r.port}`]);
  else rows.push(['path', `refused at the source: ${r.code}`]);
  const w = e.waypoint;
  if (w) {
    rows.push(['waypoint policies', w.policies.length > 0 ? w.policies.join(', ') : 'none']);
    rows.push(['waypoint verdict', `${w.decision.allowed ? 'ALLOW' : 'DENY'}: ${w.decision.reason}${w.decision.rule !== undefined ? ` (rule ${w.decision.rule})` : ''}`]);
    if (w.route.kind === 'none') rows.push(['route', 'routes apply but none matches (404)']);
    else {
      rows.push(['route', w.route.kind === 'route' ? `${w.route.name} rule ${w.route.rule}` : 'none applies: pass-through to the Service']);
      for (const b of w.route.backends) {
        rows.push(['backend', `${b.name} weight ${b.weight}${b.valid ? `, ${b.endpoints.length} ready endpoint${b.endpoints.length === 1 ? '' : 's'}` : ' (does not resolve: 500)'}`]);
      }
    }
  } else if (e.endpoints.length > 0) {
    rows.push(['endpoints', e.endpoints.map((x) => `${x.address}:${x.port}${x.ready ? '' : ' (not ready)'}`).join(', ')]);
  }
  for (const h of e.hops) {
    const who = h.workload ? workload(h.workload) : h.endpoint;
    if (!h.inbound) {
      rows.push(['at destination', `${h.endpoint} ${who}: not captured, no policy enforced`]);
      continue;
    }
    const dec = h.inbound.decision;
    rows.push([
      'at destination',
      `${h.endpoint} ${who} (node agent ${h.inbound.workload.node}, peer ${h.peer ?? 'plaintext'}): ${dec.allowed ? 'ALLOW' : 'DENY'}: ${dec.reason}`,
    ]);
  }
  rows.push(['verdict', `${e.verdict.outcome}${e.verdict.policy ? ` (${e.verdict.policy})` : ''}: ${e.verdict.summary}`]);
  return rows;
}

function workload(w: ExplainWorkload): string {
  return `${w.namespace}/${w.name}`;
}
