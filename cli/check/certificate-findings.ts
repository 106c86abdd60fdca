import type { CertificateSummary } from '../../lib/identity/index.js';
import { WAYPOINT_CLASS } from '../../lib/names.js';
import { componentLabel, type AdminComponent } from '../admin/admin-target.js';
import { formatDuration } from '../admin/get-views.js';
import { Gateway } from '../../lib/kube/resources.js';
import { labOf } from './agent-states.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { listInstalled, type Analysis, type AnalyzerContext } from './context.js';
import { finding, type Finding } from './findings.js';

/**
 * The workload certificates the node agents and waypoints hold, as each reports them on its admin endpoint
 * (`/debug/certificates`, what `weft get certificates` shows): expired is WEFT-C033; less than the
 * threshold left (a quarter of the certificate's lifetime, or --cert-expiry-threshold) WEFT-C032. A
 * component that does not answer is left to the node agent and waypoint checks.
 */
export async function certificateFindings(ctx: AnalyzerContext): Promise<Analysis> {
  const admin = ctx.admin;
  if (admin === undefined || ctx.client.target.kind !== 'lab') {
    return { examined: '', skipped: 'the admin endpoints of node agents and waypoints listen on loopback: `weft get certificates --node <node> --admin <host:port>` after a `kubectl port-forward` shows them', findings: [] };
  }
  const { info } = await labOf(ctx.client.target.name, ctx.client.target.dir);
  const components: AdminComponent[] = (info?.agent === true ? info.nodes : []).map((n) => ({ kind: 'agent', node: n.name }));
  for (const g of await listInstalled(ctx.client, Gateway)) {
    if (g.spec?.gatewayClassName === WAYPOINT_CLASS) components.push({ kind: 'waypoint', namespace: g.metadata.namespace ?? 'default', name: g.metadata.name });
  }
  const findings: Finding[] = [];
  let held = 0;
  for (const c of components) {
    let certs: CertificateSummary[];
    try {
      certs = (await admin(c, '/debug/certificates') as { certificates: CertificateSummary[] }).certificates;
    } catch {
      continue;
    }
    held += certs.length;
    findings.push(...judgeCertificates(ctx, c, certs));
  }
  return { examined: `${held} certificate(s) held by ${components.length} node agent(s) and waypoint(s)`, findings };
}

export function judgeCertificates(ctx: { readonly client: Pick<ClusterClient, 'target'> } & Pick<AnalyzerContext, 'now' | 'certExpirySeconds'>, c: AdminComponent, certs: readonly CertificateSummary[]): Finding[] {
  const holder = componentLabel(c);
  const logs = c.kind === 'agent' ? `agent-${c.node}` : '<namespace>/<waypoint pod>';
  const lab = ctx.client.target.kind === 'lab' ? ctx.client.target.name : '';
  const fix = `Its log says why renewal fails: \`weft lab logs ${logs} --lab ${lab}\``;
  const out: Finding[] = [];
  for (const cert of certs) {
    const notAfter = Date.parse(cert.notAfter);
    const left = (notAfter - ctx.now.getTime()) / 1000;
    const lifetime = (notAfter - Date.parse(cert.notBefore)) / 1000;
    const threshold = ctx.certExpirySeconds ?? lifetime / 4;
    const object = `certificate ${cert.identity} at ${holder}`;
    if (left <= 0) out.push(finding('WEFT-C033', object, `expired ${formatDuration(-left)} ago (${cert.notAfter}, serial ${cert.serial}): peers refuse its handshakes`, fix));
    else if (left < threshold) {
      out.push(finding('WEFT-C032', object, `expires in ${formatDuration(left)} (${cert.notAfter}, serial ${cert.serial}), under the threshold of ${formatDuration(threshold)}: it should have renewed at half-life`, fix));
    }
  }
  return out;
}
