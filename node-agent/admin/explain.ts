import { isIP } from 'node:net';
import { WeftError } from '../../lib/errors/index.js';
import { queryParam, queryPort, type ExplainEndpoint, type ExplainWorkload, type InboundExplain, type OutboundExplain } from '../../lib/admin/index.js';
import type { Service, StateView, Workload } from '../../lib/model/index.js';
import { identityOf, type ProxyInputs } from '../proxy/inputs.js';
import { routeOutbound } from '../proxy/outbound.js';

/**
 * The node agent's answers to `weft explain` (lib/admin/explain-contract.ts): the outbound route choice is
 * `routeOutbound`, the one the proxy runs per connection, and the inbound verdict is the proxy's own
 * `AuthzPolicies.forWorkload(...).authorizeL4`, both over the agent's live state. Nothing here decides
 * anything the data path does not.
 */
export interface ExplainSources {
  readonly inputs: ProxyInputs;
  readonly node: string;
  /** `<namespace>/<name>` of the pods this agent has enrolled. */
  enrolled(): ReadonlySet<string>;
}

const OUT = '/debug/explain/outbound';
const IN = '/debug/explain/inbound';

export function explainOutbound(s: ExplainSources, q: URLSearchParams): OutboundExplain {
  const { view } = s.inputs;
  const td = s.inputs.tls.trustDomain;
  const podRef = queryParam(q, 'pod', OUT);
  const host = queryParam(q, 'host', OUT);
  const port = queryPort(q, 'port', OUT);
  const [namespace, name] = podRef.split('/');
  const src = namespace && name ? view.workloadByName(namespace, name) : undefined;
  if (!src) throw new WeftError('ERR_WEFT_ADMIN_UNKNOWN_POD', { pod: podRef, node: s.node });
  const address = resolveHost(view, host, src.namespace);
  if (address === undefined) throw new WeftError('ERR_WEFT_ADMIN_UNKNOWN_HOST', { host });
  const service = view.serviceByVip(address);
  const servicePort = service?.ports.find((p) => p.port === port);
  const dstWorkload = service ? undefined : view.workloadByIp(address);
  const r = routeOutbound(s.inputs, address, port);
  let route: OutboundExplain['route'];
  if (r.kind === 'refuse') route = { kind: 'refuse', code: r.error.code, message: r.error.message };
  else if (r.kind === 'passthrough') route = { kind: 'passthrough', address: r.address, port: r.port };
  else {
    const wp = r.service?.waypoint ?? r.dst?.waypoint;
    route = {
      kind: 'hbone',
      via: wp ? 'waypoint' : 'direct',
      nextHop: r.nextHop,
      authority: r.authority,
      peerIdentity: r.identity,
      waypoint: wp && { namespace: wp.namespace, name: wp.name, address: wp.address, identity: wp.identity },
    };
  }
  return {
    source: { ...explainWorkload(src, td), enrolled: s.enrolled().has(`${src.namespace}/${src.name}`) },
    destination: {
      host,
      address,
      port,
      service: service && { namespace: service.namespace, name: service.name, targetPort: servicePort?.targetPort },
      workload: dstWorkload && explainWorkload(dstWorkload, td),
    },
    route,
    endpoints: service ? endpointsOf(view, service, servicePort?.targetPort ?? port, td) : [],
  };
}

export function explainInbound(s: ExplainSources, q: URLSearchParams): InboundExplain {
  const { view, authz } = s.inputs;
  const ip = queryParam(q, 'ip', IN);
  const port = queryPort(q, 'port', IN);
  const w = view.workloadByIp(ip);
  if (!w) throw new WeftError('ERR_WEFT_ADMIN_UNKNOWN_WORKLOAD', { ip, node: s.node });
  const set = authz.forWorkload(w);
  const principal = q.get('principal') || undefined;
  // A plaintext peer of a strict workload is refused before policy (inbound-plain.ts, strict-mtls.ts).
  const decision =
    principal === undefined && w.mtlsMode === 'strict'
      ? { allowed: false, policy: undefined, rule: undefined, reason: 'strict mTLS: the workload accepts only mesh peers (weft.dev/mtls-mode: strict)' }
      : set.authorizeL4({ principal, sourceIp: q.get('sourceIp') || undefined, port });
  return { workload: explainWorkload(w, s.inputs.tls.trustDomain), mtlsMode: w.mtlsMode, policies: set.policies.map((p) => p.id), decision };
}

/**
 * An address for `host` as a client in `clientNamespace` would reach it: an IP as is; a Service name
 * `<name>`, `<name>.<ns>`, `<name>.<ns>.svc` or `<name>.<ns>.svc.<domain>` as its first VIP.
 */
export function resolveHost(view: StateView, host: string, clientNamespace: string): string | undefined {
  if (isIP(host) !== 0) return host;
  const labels = host.replace(/\.$/, '').split('.');
  const name = labels[0];
  const namespace = labels.length === 1 ? clientNamespace : labels[1];
  if (!name || !namespace || (labels.length > 2 && labels[2] !== 'svc')) return undefined;
  return view.service(namespace, name)?.vips[0];
}

function explainWorkload(w: Workload, trustDomain: string): ExplainWorkload {
  return { namespace: w.namespace, name: w.name, ip: w.ips[0], node: w.node, identity: identityOf(trustDomain, w), captured: w.captured };
}

function endpointsOf(view: StateView, service: Service, port: number, trustDomain: string): ExplainEndpoint[] {
  return service.endpoints.map((e) => {
    const w = view.workloadByUid(e.workloadUid) ?? view.workloadByIp(e.address);
    return { address: e.address, port, ready: e.ready, workload: w && explainWorkload(w, trustDomain) };
  });
}
