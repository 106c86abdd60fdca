import { queryParam, type ExplainBackend, type ExplainEndpoint, type WaypointExplain } from '../lib/admin/index.js';
import { namespaceOfPrincipal } from '../lib/authz/index.js';
import { WeftError } from '../lib/errors/index.js';
import { splitHostPort } from '../lib/host-port.js';
import type { StateView } from '../lib/model/index.js';
import { PASSTHROUGH, selectMatch } from './route/select.js';
import type { Backend, StateIndex } from './route/state-index.js';

/**
 * The waypoint's answer to `weft explain` (lib/admin/explain-contract.ts): for a request the client would
 * send through it, the L7 verdict of the Service's policies (the same PolicySet the request path reads,
 * waypoint/policy/authorize.ts) and the route the request layer would select (route/select.ts over the
 * same compiled routes), with the backends of the matched rule and their endpoints.
 */
const PATH = '/debug/explain';

export function explainRequest(index: StateIndex, view: StateView, identity: string | undefined, q: URLSearchParams): WaypointExplain {
  const authority = queryParam(q, 'authority', PATH);
  const a = splitHostPort(authority);
  const found = a && index.serviceFor(a.host, a.port);
  if (!found) throw new WeftError('ERR_WEFT_WAYPOINT_NO_SERVICE', { destination: authority });
  const { service, port } = found;
  const principal = q.get('principal') || undefined;
  const method = q.get('method') || 'GET';
  const fullPath = q.get('path') || '/';
  const at = fullPath.indexOf('?');
  const path = at < 0 ? fullPath : fullPath.slice(0, at);
  const query = at < 0 ? '' : fullPath.slice(at + 1);
  const host = q.get('host') || `${service.name}.${service.namespace}`;
  const set = index.policies(service).current();
  const decision = set.authorizeL7({ principal, sourceIp: q.get('sourceIp') || undefined, method, path, port: port.port });
  const m = selectMatch(index.routes(service, port.port), namespaceOfPrincipal(principal), service, { method, path, query, authority: host, grpc: q.get('grpc') === 'true' }, { host });
  let route: WaypointExplain['route'];
  if (m === undefined) route = { kind: 'none' };
  else if (m === PASSTHROUGH) route = { kind: 'passthrough', backends: [backendOf(index.backend(service.namespace, service.name, port.port), view, `${service.namespace}/${service.name}:${port.port}`, 1)] };
  else {
    const backends = m.rule.backendRefs.map((ref) => {
      const written = ref.service ? `${ref.service.namespace}/${ref.service.name}:${ref.port ?? ''}` : (ref.invalidReason ?? 'unresolved backendRef');
      return backendOf(ref.service && index.backend(ref.service.namespace, ref.service.name, ref.port), view, written, ref.weight);
    });
    route = { kind: 'route', name: `${m.route.namespace}/${m.route.name}`, rule: m.ruleIndex, backends };
  }
  return {
    waypoint: { namespace: index.gateway.namespace, name: index.gateway.name, identity },
    service: { namespace: service.namespace, name: service.name, port: port.port },
    policies: set.policies.map((p) => p.id),
    decision,
    route,
  };
}

function backendOf(b: Backend | undefined, view: StateView, written: string, weight: number): ExplainBackend {
  if (!b) return { name: written, weight, valid: false, endpoints: [] };
  const endpoints: ExplainEndpoint[] = b.endpoints.map((e) => {
    const w = view.workloadByIp(e.endpoint.address);
    return {
      address: e.endpoint.address,
      port: e.endpoint.port,
      ready: true,
      workload: w && { namespace: w.namespace, name: w.name, ip: w.ips[0], node: w.node, identity: e.endpoint.identity ?? '', captured: w.captured },
    };
  });
  return { name: b.label, weight, valid: true, endpoints };
}
