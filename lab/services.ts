import type { EndpointSliceView } from './endpoint-slices.js';
import type { KubeObject, ServicePort } from './manifests.js';
import { VIP_RANGE } from './vip.js';

/**
 * kube-proxy for the lab: each node namespace gets one nftables table that DNATs a Service VIP:port to
 * a ready endpoint of its EndpointSlices (random choice), for pods that the mesh does not capture. A
 * Service port maps to the slice port of the same name (the controller names slice ports after the
 * Service's and numbers them with the resolved target port), as kube-proxy maps them. Rendered as a whole and
 * loaded in one `nft -f` transaction (delete + add), so a change never leaves half a table. Bridged
 * replies from a same-node endpoint pass the node's conntrack (bridge-nf-call-iptables), which reverses
 * the DNAT; a pod reaching itself through its own VIP (hairpin) is masqueraded, as kube-proxy does.
 */
export const PROXY_TABLE = 'weftlab';

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly vip: string;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
}

export function serviceView(obj: KubeObject): ServiceView | undefined {
  const vip = obj.spec?.clusterIP;
  if (typeof vip !== 'string' || vip === '' || vip === 'None') return undefined;
  return {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name,
    vip,
    selector: obj.spec?.selector as Record<string, string> | undefined,
    ports: (obj.spec?.ports as ServicePort[] | undefined) ?? [],
  };
}

/** The ready `address . port` targets of one Service port, from the Service's slices (sorted, distinct). */
export function targetsOf(svc: ServiceView, sp: ServicePort, slices: readonly EndpointSliceView[]): string[] {
  const protocol = sp.protocol ?? 'TCP';
  const targets = new Set<string>();
  for (const slice of slices) {
    if (slice.namespace !== svc.namespace || slice.service !== svc.name) continue;
    const port = slice.ports.find((p) => p.name === (sp.name ?? '') && p.protocol === protocol)?.port;
    if (port === undefined) continue;
    for (const ip of slice.addresses) targets.add(`${ip} . ${port}`);
  }
  return [...targets].sort();
}

export function renderProxyRules(services: readonly ServiceView[], slices: readonly EndpointSliceView[]): string {
  const rules: string[] = [];
  const hairpin = new Set<string>();
  for (const svc of [...services].sort((a, b) => a.vip.localeCompare(b.vip))) {
    for (const sp of svc.ports) {
      const proto = (sp.protocol ?? 'TCP').toLowerCase() === 'udp' ? 'udp' : 'tcp';
      const targets = targetsOf(svc, sp, slices);
      for (const t of targets) hairpin.add(t.split(' . ')[0]);
      if (targets.length === 0) continue;
      const map = targets.map((t, i) => `${i} : ${t}`).join(', ');
      rules.push(`    ip daddr ${svc.vip} ${proto} dport ${sp.port} dnat ip to numgen random mod ${targets.length} map { ${map} }`);
    }
  }
  const masq = [...hairpin].sort().map((ip) => `    ip saddr ${ip} ip daddr ${ip} ct status dnat masquerade`);
  return [
    `table ip ${PROXY_TABLE} {}`,
    `delete table ip ${PROXY_TABLE}`,
    `table ip ${PROXY_TABLE} {`,
    '  chain services {',
    ...rules,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump services',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    ...masq,
    '  }',
    // A VIP port without ready endpoints is refused at once instead of timing out (after DNAT a
    // served VIP no longer matches here).
    '  chain no_endpoints {',
    '    type filter hook forward priority 0; policy accept;',
    `    ip daddr ${VIP_RANGE} meta l4proto tcp reject with tcp reset`,
    '  }',
    '  chain no_endpoints_local {',
    '    type filter hook output priority 0; policy accept;',
    `    ip daddr ${VIP_RANGE} meta l4proto tcp reject with tcp reset`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface PodName {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
}

/**
 * A pod's /etc/hosts (pod-etc.ts), naming what cluster DNS and the pod's search path
 * (`<ns>.svc.cluster.local svc.cluster.local cluster.local`) would resolve: each Service as
 * `<svc>.<ns>`, `<svc>.<ns>.svc` and `<svc>.<ns>.svc.cluster.local`, and as `<svc>` only in the pod's
 * own namespace. Other pods have no names (Kubernetes gives them none a client would use), so a pod and
 * a Service of the same name never collide; the pod's own name resolves to itself, as the hostname line
 * a kubelet writes.
 */
export function renderHosts(self: PodName, services: readonly ServiceView[], extra: readonly { ip: string; names: readonly string[] }[] = []): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${self.ip}\t${self.name}`];
  for (const e of extra) lines.push(`${e.ip}\t${e.names.join(' ')}`);
  for (const s of [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
    const names = [`${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`];
    if (s.namespace === self.namespace) names.unshift(s.name);
    lines.push(`${s.vip}\t${names.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
