import { CA_ROOT_CONFIGMAP, CA_ROOT_KEY } from '../../control/ca-root-configmap.js';
import { CONTROL_NAMESPACE, WAYPOINT_CLASS } from '../../lib/names.js';
import { DEFAULT_LEAF_LIFETIME_SECONDS } from '../../lib/identity/leaf-lifetime.js';
import { CA_MIN_SECONDS } from '../check/context.js';
import { certificatesIn, judgeCertificate, shorterThanLeafLifetime } from './ca-check.js';
import type { ClusterClient } from '../../lib/kube/cluster-client.js';
import { fail, guarded, ok, skip, warn, type CheckResult } from './check-result.js';
import { conditionOf } from './conditions.js';
import { AuthorizationPolicy, ConfigMap, Gateway, HTTPRoute, Pod } from '../../lib/kube/resources.js';

/**
 * `weft check` against a lab. The lab's control plane and node agents are processes, not pods (no
 * Deployment or DaemonSet to check), so what the lab's API server shows of them is checked instead: that
 * this user may write to it, that the control plane writes status (it is alive and reads the objects),
 * that the lab's pods are Ready, that waypoints are Programmed, and the root the control plane publishes
 * (ConfigMap weft-system/weft-ca-root; leaves of the default 24 h).
 */
export async function labChecks(client: ClusterClient, options: { now?: Date; caExpirySeconds?: number } = {}): Promise<CheckResult[]> {
  if (client.target.kind !== 'lab') return [];
  const lab = client.target;
  const out: CheckResult[] = [];
  out.push(
    await guarded('lab', async () =>
      (await client.canI('create', Pod))
        ? ok('lab', `lab ${lab.name}, its API server answers`)
        : fail('lab', `the lab's kubeconfig may not create pods`, 'Run weft as the user that started the lab (root: sudo).'),
    ),
  );
  out.push(
    await guarded('control plane', async () => {
      const reported = [...(await client.list(Gateway)), ...(await client.list(HTTPRoute)), ...(await client.list(AuthorizationPolicy))];
      if (reported.length === 0) return skip('control plane', 'no Gateway, HTTPRoute or AuthorizationPolicy for it to report on yet');
      // The Gateway API CRDs default a new object's status to Unknown conditions: only a condition with a
      // verdict is the control plane's.
      const withStatus = reported.filter((o) => ((o.status?.conditions as { status?: string }[] | undefined) ?? []).some((c) => c.status === 'True' || c.status === 'False'));
      if (withStatus.length === 0) return warn('control plane', `no status written for ${reported.length} object(s) yet`, `Is weft-control running? \`weft lab logs control --lab ${lab.name}\``);
      return ok('control plane', `status written for ${withStatus.length}/${reported.length} object(s)`);
    }),
  );
  out.push(
    await guarded('pods', async () => {
      const pods = await client.list(Pod);
      if (pods.length === 0) return skip('pods', 'no pods yet (`weft lab apply -f ...`)');
      const notReady = pods.filter((p) => conditionOf(p, 'Ready')?.status !== 'True').map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`);
      if (notReady.length > 0) return fail('pods', `${notReady.length}/${pods.length} not ready: ${notReady.join(', ')}`, `\`weft lab logs <ns>/<pod> --lab ${lab.name}\` shows why.`);
      return ok('pods', `${pods.length} pod(s) ready`);
    }),
  );
  out.push(
    await guarded('waypoints', async () => {
      const gws = (await client.list(Gateway)).filter((g) => g.spec?.gatewayClassName === WAYPOINT_CLASS);
      if (gws.length === 0) return skip('waypoints', 'none deployed');
      const bad = gws.filter((g) => conditionOf(g, 'Programmed')?.status !== 'True').map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`);
      if (bad.length > 0) return fail('waypoints', `not programmed: ${bad.join(', ')}`, '`weft waypoint status -n <ns> --name <name>` shows the conditions.');
      return ok('waypoints', `${gws.length} programmed`);
    }),
  );
  out.push(await guarded('CA certificates', () => labCaCheck(client, lab.name, options.now ?? new Date(), options.caExpirySeconds ?? CA_MIN_SECONDS)));
  return out;
}

async function labCaCheck(client: ClusterClient, name: string, now: Date, minSeconds: number): Promise<CheckResult> {
  const check = 'CA certificates';
  const where = `ConfigMap ${CONTROL_NAMESPACE}/${CA_ROOT_CONFIGMAP}`;
  const pem = (await client.get({ type: ConfigMap, name: CA_ROOT_CONFIGMAP, namespace: CONTROL_NAMESPACE }))?.data?.[CA_ROOT_KEY];
  if (pem === undefined) return skip(check, `no ${where} yet (the lab's control plane publishes it on first start)`);
  const [issuing] = certificatesIn(pem);
  if (issuing === undefined) return fail(check, `${where} holds no certificate`, `Recreate the lab: \`sudo weft lab down --lab ${name}\`, then \`sudo weft lab up --lab ${name}\`.`);
  const short = shorterThanLeafLifetime(issuing, DEFAULT_LEAF_LIFETIME_SECONDS, now);
  if (short !== undefined) {
    return fail(check, short, `The lab's CA is generated: recreate the lab (\`sudo weft lab down --lab ${name}\`, then \`sudo weft lab up --lab ${name}\`).`, 'WEFT-C031');
  }
  const v = judgeCertificate(issuing, now, minSeconds);
  if (v.problem !== undefined) return fail(check, `${v.subject}: ${v.problem}`, `Recreate the lab: \`sudo weft lab down --lab ${name}\`, then \`sudo weft lab up --lab ${name}\`.`, 'WEFT-C030');
  return ok(check, `the lab's CA is valid until ${issuing.notAfter.toISOString().slice(0, 10)} (${v.daysLeft} days)`);
}
