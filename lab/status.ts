import { Node, Pod, Service } from '../lib/kube/resources.js';
import { run } from './command.js';
import { labClient } from './kube/lab-client.js';
import type { PodSpec, ServicePort } from './manifests.js';
import { podNetns } from './names.js';
import { inNetns, listNetns } from './netns.js';
import type { LabInfo } from './state.js';

/**
 * `weft lab status`: nodes, pods (with where they run and whether the mesh captured them) and Services, as
 * the lab's API server has them.
 */
export interface LabStatus {
  nodes: { name: string; ip: string; podCIDR: string }[];
  pods: { namespace: string; name: string; node: string; ip: string; phase: string; ready: boolean; restarts: number; captured: boolean; reason?: string }[];
  services: { namespace: string; name: string; vip: string; ports: { name?: string; port: number; targetPort?: number | string; protocol: string }[] }[];
}

/** The node agent puts a `weft` nftables table into each pod namespace it captures. */
async function isCaptured(netns: string): Promise<boolean> {
  const r = await run(inNetns(netns, ['nft', 'list', 'tables']), { allowFailure: true });
  return r.code === 0 && /^table \w+ weft$/m.test(r.stdout);
}

export async function labStatus(info: LabInfo): Promise<LabStatus> {
  const client = labClient(info);
  const [nodes, pods, services, existing] = await Promise.all([client.list(Node), client.list(Pod), client.list(Service), listNetns(`weft-${info.name}-p-`)]);
  const netns = new Set(existing);
  const out: LabStatus = { nodes: [], pods: [], services: [] };
  for (const n of nodes) {
    const addresses = (n.status?.addresses as { type: string; address: string }[] | undefined) ?? [];
    out.nodes.push({ name: n.metadata.name, ip: addresses.find((a) => a.type === 'InternalIP')?.address ?? '', podCIDR: typeof n.spec?.podCIDR === 'string' ? n.spec.podCIDR : '' });
  }
  for (const p of pods) {
    const st = p.status;
    const ns = p.metadata.namespace ?? 'default';
    const conds = (st?.conditions as { type: string; status: string }[] | undefined) ?? [];
    const pn = podNetns(info.name, ns, p.metadata.name);
    const containers = (st?.containerStatuses as { restartCount?: number; state?: { waiting?: { reason?: string } } }[] | undefined) ?? [];
    const reason = typeof st?.reason === 'string' ? st.reason : containers.find((c) => c.state?.waiting?.reason !== undefined && c.state.waiting.reason !== 'ContainerCreating')?.state?.waiting?.reason;
    out.pods.push({
      namespace: ns,
      name: p.metadata.name,
      node: (p.spec as PodSpec | undefined)?.nodeName ?? '',
      ip: typeof st?.podIP === 'string' ? st.podIP : '',
      phase: typeof st?.phase === 'string' ? st.phase : 'Pending',
      ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'),
      restarts: containers.reduce((a, c) => a + (c.restartCount ?? 0), 0),
      captured: netns.has(pn) ? await isCaptured(pn) : false,
      ...(reason !== undefined ? { reason } : {}),
    });
  }
  for (const s of services) {
    const ports = ((s.spec?.ports as ServicePort[] | undefined) ?? []).map((p) => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      port: p.port,
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      protocol: p.protocol ?? 'TCP',
    }));
    out.services.push({ namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, vip: typeof s.spec?.clusterIP === 'string' ? s.spec.clusterIP : '', ports });
  }
  out.nodes.sort((a, b) => a.name.localeCompare(b.name));
  out.pods.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  out.services.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function renderStatusTable(s: LabStatus): string {
  const parts = [
    table([['NODE', 'IP', 'POD CIDR'], ...s.nodes.map((n) => [n.name, n.ip, n.podCIDR])]),
    table([
      ['NAMESPACE', 'POD', 'NODE', 'IP', 'PHASE', 'READY', 'RESTARTS', 'CAPTURED'],
      ...s.pods.map((p) => [p.namespace, p.name, p.node, p.ip, p.reason ? `${p.phase} (${p.reason})` : p.phase, String(p.ready), String(p.restarts), String(p.captured)]),
    ]),
    table([
      ['NAMESPACE', 'SERVICE', 'VIP', 'PORTS'],
      ...s.services.map((v) => [v.namespace, v.name, v.vip, v.ports.map((p) => `${p.port}${p.targetPort !== undefined ? `:${p.targetPort}` : ''}/${p.protocol}`).join(',')]),
    ]),
  ];
  return parts.join('\n\n') + '\n';
}
