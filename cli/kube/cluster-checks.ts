import { WAYPOINT_CLASS } from '../../lib/names.js';
import { GATEWAY_API_GROUP, GATEWAY_API_INSTALL } from '../../lib/crd-install.js';
import { WeftError } from '../../lib/errors/index.js';
import { DEFAULT_LEAF_LIFETIME_SECONDS, parseLeafLifetime } from '../../lib/identity/leaf-lifetime.js';
import type { ClusterClient, KubeObject } from '../../lib/kube/cluster-client.js';
import { CA_MIN_SECONDS } from '../check/context.js';
import { certificatesIn, judgeCertificate, shorterThanLeafLifetime } from './ca-check.js';
import { fail, guarded, ok, parseVersion, skip, versionAtLeast, warn, type CheckResult } from './check-result.js';
import { conditionOf } from './conditions.js';
import { ConfigMap, CustomResourceDefinition, DaemonSet, Deployment, Event, GatewayClass, Node, Pod, Secret } from '../../lib/kube/resources.js';

/**
 * The checks of `weft check` against a Kubernetes cluster, after install. Each returns one line; a
 * failure carries the fix. What each reads:
 * - API: /version (≥ 1.29, the chart's kubeVersion).
 * - Gateway API: the CRDs' `gateway.networking.k8s.io/bundle-version` (≥ v1.2.0) and channel annotations.
 * - weft CRD: authorizationpolicies.security.weft.dev serving v1alpha1.
 * - control plane: Deployment weft-control ready replicas; GatewayClass weft-waypoint Accepted.
 * - node agents: a Ready weft-node-agent pod on every schedulable Linux node.
 * - CNI chained: per node, the readiness of that pod's install-cni container, which the chart's probe
 *   ties to weft-cni being present in the node's CNI configuration and not contested by another writer;
 *   a contest (the probe's output in the pod's Unhealthy events) is its own finding, naming the writer.
 * - CA: the certificates in the CA Secret weft-ca valid now and for 30 more days, the issuing CA (the
 *   first) for one more leaf lifetime (weft-control's --leaf-lifetime, read from its Deployment);
 *   the trust root ConfigMap weft-ca-root the data plane mounts.
 */
export const MIN_KUBERNETES = [1, 29];
/** Why the checks after a failed Kubernetes API check (and the analyzers) did not run. */
export const API_DOWN = 'not checked: the Kubernetes API check above failed';
export const MIN_GATEWAY_API = [1, 2, 0];
/** The Gateway API CRDs weft reads (plural → kind; all gateway.networking.k8s.io/v1). */
const GATEWAY_KINDS: Readonly<Record<string, string>> = { gatewayclasses: 'GatewayClass', gateways: 'Gateway', httproutes: 'HTTPRoute', grpcroutes: 'GRPCRoute' };
export const GATEWAY_CRDS = Object.keys(GATEWAY_KINDS);
export const WEFT_CRD = 'authorizationpolicies.security.weft.dev';

export interface CheckOptions {
  namespace: string;
  now?: Date;
  /** Default CA_MIN_SECONDS. */
  caExpirySeconds?: number;
}

export async function apiCheck(client: ClusterClient): Promise<CheckResult> {
  return guarded('Kubernetes API', async () => {
    const v = await client.serverVersion();
    const where = client.target.kind === 'kubernetes' ? client.target.server : '';
    if (!versionAtLeast([v.major, v.minor], MIN_KUBERNETES)) {
      return fail('Kubernetes API', `${v.gitVersion} at ${where} is older than the supported 1.${MIN_KUBERNETES[1]}`, 'Upgrade the cluster to Kubernetes 1.29 or later.');
    }
    return ok('Kubernetes API', `${v.gitVersion} at ${where}`);
  });
}

export async function gatewayApiCheck(client: ClusterClient): Promise<CheckResult> {
  const name = 'Gateway API CRDs';
  const install = GATEWAY_API_INSTALL;
  return guarded(name, async () => {
    const found: KubeObject[] = [];
    const missing: string[] = [];
    for (const plural of GATEWAY_CRDS) {
      const crd = await client.get({ type: CustomResourceDefinition, name: `${plural}.gateway.networking.k8s.io` });
      if (crd === undefined) missing.push(plural);
      else found.push(crd);
    }
    if (missing.length > 0) {
      // Word for word what weft-control logs for a missing CRD (control/sources/kube-reach.ts).
      const err = new WeftError('ERR_WEFT_SOURCE_CRD_MISSING', {
        kinds: missing.map((p) => `${GATEWAY_API_GROUP}/v1 ${GATEWAY_KINDS[p] ?? p}`).join(', '),
        crds: missing.map((p) => `${p}.${GATEWAY_API_GROUP}`).join(', '),
        command: install,
      });
      return fail(name, `${err.code}: ${err.message}`, err.hint);
    }
    const versions = found.map((c) => c.metadata.annotations?.['gateway.networking.k8s.io/bundle-version']);
    const old = found.filter((_, i) => {
      const v = parseVersion(versions[i]);
      return v === undefined || !versionAtLeast(v, MIN_GATEWAY_API);
    });
    if (old.length > 0) {
      return fail(name, `${old.map((c) => `${c.metadata.name} at ${c.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'] ?? 'unknown version'}`).join(', ')}; need ≥ v${MIN_GATEWAY_API.join('.')}`, `Upgrade them: ${install}`);
    }
    const channels = new Set(found.map((c) => c.metadata.annotations?.['gateway.networking.k8s.io/channel'] ?? 'unknown'));
    const summary = `${[...new Set(versions)].join(', ')} (${[...channels].join(', ')} channel)`;
    // Whether a route's retries survive is the HTTPRoute CRD's schema, not its channel: the API server
    // prunes a field its schema lacks (v1.7.0's standard channel has spec.rules[].retry; older releases had it in experimental only).
    const httpRoutes = found.find((c) => c.metadata.name === `httproutes.${GATEWAY_API_GROUP}`);
    if (httpRoutes !== undefined && !hasRouteRetry(httpRoutes)) {
      return warn(name, `${summary}: this HTTPRoute CRD has no spec.rules[].retry, so the API server drops a route's retries`, `For retries: ${install}`);
    }
    return ok(name, summary);
  });
}

/** Whether the served v1 schema of the HTTPRoute CRD has `spec.rules[].retry`. */
function hasRouteRetry(crd: KubeObject): boolean {
  type Schema = { properties?: Record<string, Schema>; items?: Schema };
  const versions = ((crd.spec as { versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: Schema } }[] } | undefined)?.versions) ?? [];
  const v1 = versions.find((v) => v.name === 'v1' && v.served !== false);
  return v1?.schema?.openAPIV3Schema?.properties?.spec?.properties?.rules?.items?.properties?.retry !== undefined;
}

export async function weftCrdCheck(client: ClusterClient): Promise<CheckResult> {
  const name = 'weft CRDs';
  return guarded(name, async () => {
    const crd = await client.get({ type: CustomResourceDefinition, name: WEFT_CRD });
    if (crd === undefined) return fail(name, `${WEFT_CRD} is missing`, 'Install or upgrade weft (`weft install`, or `helm upgrade --install`): the chart installs it, unless crds.install=false, where `kubectl apply --server-side -f helm/weft/files/crds/` does.');
    const versions = (crd.spec?.versions ?? []) as { name: string; served?: boolean }[];
    if (!versions.some((v) => v.name === 'v1alpha1' && v.served === true)) return fail(name, `${WEFT_CRD} does not serve v1alpha1`, 'Upgrade weft (`weft install`, or `helm upgrade`), which upgrades the chart\'s CRDs.');
    const established = conditionOf(crd, 'Established');
    if (established !== undefined && established.status !== 'True') return fail(name, `${WEFT_CRD} is not Established: ${established.message ?? ''}`, '`kubectl describe crd ' + WEFT_CRD + '` says why.');
    return ok(name, `${WEFT_CRD} (v1alpha1, ${crd.metadata.annotations?.['weft.dev/bundle-version'] ?? 'unversioned'})`);
  });
}

export async function controlPlaneCheck(client: ClusterClient, namespace: string): Promise<CheckResult> {
  const name = 'control plane';
  return guarded(name, async () => {
    const d = await client.get({ type: Deployment, namespace, name: 'weft-control' });
    if (d === undefined) return fail(name, `no Deployment weft-control in ${namespace}`, `Install weft (\`weft install -n ${namespace}\`), or pass the namespace it runs in with -n.`);
    const want = Number(d.spec?.replicas ?? 1);
    const ready = Number(d.status?.readyReplicas ?? 0);
    const logs = `kubectl -n ${namespace} logs deploy/weft-control; kubectl -n ${namespace} describe deploy weft-control`;
    if (ready === 0) return fail(name, `0/${want} weft-control replicas ready`, `See why: ${logs}`);
    if (ready < want) return warn(name, `${ready}/${want} weft-control replicas ready`, `Some replicas are not ready: ${logs}`);
    return ok(name, `${ready}/${want} weft-control replicas ready`);
  });
}

export async function gatewayClassCheck(client: ClusterClient, namespace: string): Promise<CheckResult> {
  const name = 'waypoint GatewayClass';
  return guarded(name, async () => {
    const gc = await client.get({ type: GatewayClass, name: WAYPOINT_CLASS });
    if (gc === undefined) return fail(name, `GatewayClass ${WAYPOINT_CLASS} is missing`, 'Re-install with waypoint.createGatewayClass=true (the default) after installing the Gateway API CRDs.');
    const accepted = conditionOf(gc, 'Accepted');
    if (accepted?.status !== 'True') {
      return fail(name, `weft-waypoint not accepted (${accepted === undefined ? 'no status yet' : `${accepted.reason ?? ''} ${accepted.message ?? ''}`.trim()})`, `The control plane accepts it once it leads: kubectl -n ${namespace} logs deploy/weft-control`);
    }
    return ok(name, 'weft-waypoint accepted by weft.dev/waypoint-controller');
  });
}

interface NodeView {
  name: string;
  agent: KubeObject | undefined;
}

function isReady(obj: KubeObject): boolean {
  return conditionOf(obj, 'Ready')?.status === 'True';
}

/** Schedulable, Ready Linux nodes, each with the node agent pod that runs on it (if any). */
async function nodeViews(client: ClusterClient, namespace: string): Promise<{ nodes: NodeView[]; notReady: string[] }> {
  const nodes = await client.list(Node);
  const pods = await client.list(Pod, { namespace, labelSelector: 'app.kubernetes.io/name=weft-node-agent' });
  const views: NodeView[] = [];
  const notReady: string[] = [];
  for (const n of nodes) {
    if (n.spec?.unschedulable === true) continue;
    const os = n.metadata.labels?.['kubernetes.io/os'];
    if (os !== undefined && os !== 'linux') continue;
    if (!isReady(n)) {
      notReady.push(n.metadata.name);
      continue;
    }
    views.push({ name: n.metadata.name, agent: pods.find((p) => p.spec?.nodeName === n.metadata.name) });
  }
  return { nodes: views, notReady };
}

export async function nodeAgentCheck(client: ClusterClient, namespace: string): Promise<CheckResult> {
  const name = 'node agents';
  return guarded(name, async () => {
    const ds = await client.get({ type: DaemonSet, namespace, name: 'weft-node-agent' });
    if (ds === undefined) return fail(name, `no DaemonSet weft-node-agent in ${namespace}`, `Install weft (\`weft install -n ${namespace}\`).`);
    const { nodes, notReady } = await nodeViews(client, namespace);
    const missing = nodes.filter((v) => v.agent === undefined || !isReady(v.agent)).map((v) => v.name);
    const extra = notReady.length > 0 ? ` (${notReady.length} NotReady node(s) skipped: ${notReady.join(', ')})` : '';
    if (nodes.length === 0) return fail(name, `no schedulable Ready Linux node${extra}`, 'Check the nodes: kubectl get nodes');
    if (missing.length > 0) {
      return fail(name, `not ready on ${missing.length}/${nodes.length} node(s): ${missing.join(', ')}${extra}`, `kubectl -n ${namespace} get pods -l app.kubernetes.io/name=weft-node-agent -o wide; then \`kubectl logs\` the pod on that node (-c node-agent)`);
    }
    return ok(name, `ready on all ${nodes.length} node(s)${extra}`);
  });
}

/** What install-cni's status file said in the readiness probe's failure (cni/install/status.ts). */
interface ContestReport {
  node: string;
  file?: string;
  reverts?: number;
  writer?: string;
  setting?: string;
}

/**
 * The chart's install-cni readiness probe prints the status file when it fails, and the kubelet records that
 * output in an `Unhealthy` event of the pod: the latest such event per pod tells a contested node from one
 * where weft-cni is just missing. Undefined for a pod whose latest probe failure is not a contest; an API
 * refusal (no right to list events) leaves every node undecided rather than failing the check.
 */
async function contestReports(client: ClusterClient, namespace: string, pods: { node: string; pod: string }[]): Promise<ContestReport[]> {
  let events: KubeObject[];
  try {
    events = await client.list(Event, { namespace });
  } catch {
    return [];
  }
  const when = (e: KubeObject): number => {
    const t = [e.lastTimestamp, e.eventTime, e.metadata.creationTimestamp].find((x): x is string => typeof x === 'string');
    return t === undefined ? 0 : Date.parse(t) || 0;
  };
  const out: ContestReport[] = [];
  for (const { node, pod } of pods) {
    const latest = events
      .filter((e) => {
        const io = e.involvedObject as { kind?: string; name?: string; fieldPath?: string } | undefined;
        return e.reason === 'Unhealthy' && io?.kind === 'Pod' && io.name === pod && (io.fieldPath === undefined || io.fieldPath.includes('install-cni'));
      })
      .sort((a, b) => when(b) - when(a))[0];
    const message = typeof latest?.message === 'string' ? latest.message : '';
    const json = message.slice(message.indexOf('{'), message.lastIndexOf('}') + 1);
    let status: { state?: unknown; file?: unknown; reverts?: unknown; writer?: unknown; setting?: unknown };
    try {
      status = JSON.parse(json) as typeof status;
    } catch {
      continue;
    }
    if (status.state !== 'contested') continue;
    out.push({
      node,
      ...(typeof status.file === 'string' ? { file: status.file } : {}),
      ...(typeof status.reverts === 'number' ? { reverts: status.reverts } : {}),
      ...(typeof status.writer === 'string' ? { writer: status.writer } : {}),
      ...(typeof status.setting === 'string' ? { setting: status.setting } : {}),
    });
  }
  return out;
}

/** What to run or change to stop the fight, per known writer (cni/install/other-writer.ts names them). */
function contestFix(reports: ContestReport[], namespace: string): string {
  const writers = [...new Set(reports.map((r) => r.writer).filter((w): w is string => w !== undefined))];
  const cilium = 'Cilium removes every other plugin while cni.exclusive=true (its default): helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set cni.exclusive=false';
  if (writers.length === 1 && writers[0] === 'Cilium') return `${cilium}. weft re-chains by itself once the file is left alone (docs/install.md).`;
  const named = reports.filter((r) => r.setting !== undefined).map((r) => `${r.writer ?? 'the other writer'}: set ${r.setting ?? ''}`);
  return `${named.length > 0 ? `${[...new Set(named)].join('; ')}. ` : ''}Find what rewrites the node's CNI config and make it keep chained plugins (${cilium}); install-cni's log says which file: kubectl -n ${namespace} logs <node-agent pod> -c install-cni (docs/install.md).`;
}

export async function cniCheck(client: ClusterClient, namespace: string): Promise<CheckResult> {
  const name = 'CNI chained';
  return guarded(name, async () => {
    const { nodes } = await nodeViews(client, namespace);
    const unchained: { node: string; pod: string }[] = [];
    for (const v of nodes) {
      const statuses = (v.agent?.status?.containerStatuses ?? []) as { name: string; ready?: boolean }[];
      if (statuses.find((s) => s.name === 'install-cni')?.ready !== true) unchained.push({ node: v.name, pod: v.agent?.metadata.name ?? '' });
    }
    if (nodes.length === 0) return skip(name, 'no node to check');
    const contested = await contestReports(client, namespace, unchained.filter((u) => u.pod !== ''));
    if (contested.length > 0) {
      const missing = unchained.filter((u) => !contested.some((c) => c.node === u.node)).map((u) => u.node);
      const each = contested.map((c) => `${c.node} (${[c.file, c.reverts === undefined ? undefined : `${c.reverts} removals`, `other writer: ${c.writer ?? 'unknown'}`].filter((x) => x !== undefined).join(', ')})`);
      return fail(
        name,
        `contested: another writer keeps removing weft-cni from the CNI config on ${contested.length}/${nodes.length} node(s): ${each.join('; ')}; pods created meanwhile start uncaptured${missing.length > 0 ? `; also not chained on ${missing.join(', ')}` : ''}`,
        contestFix(contested, namespace),
        'WEFT-C022',
      );
    }
    if (unchained.length > 0) {
      return fail(
        name,
        `weft-cni is not chained on ${unchained.length}/${nodes.length} node(s): ${unchained.map((u) => u.node).join(', ')}`,
        `kubectl -n ${namespace} describe pod <node-agent pod> shows the probe's reason: weft-cni missing from the node's conflist (check cni.confDir/cni.binDir for your distribution, values.yaml lists them) or "contested", another writer keeps removing it (Cilium: set cni.exclusive=false). Logs: kubectl -n ${namespace} logs <node-agent pod> -c install-cni.`,
      );
    }
    return ok(name, `weft-cni chained on all ${nodes.length} node(s)`);
  });
}

/** The leaf lifetime weft-control runs with: its `--leaf-lifetime` arg or WEFT_CONTROL_LEAF_LIFETIME env, else 24 h. */
export function leafLifetimeOf(control: KubeObject | undefined): number {
  const containers = ((control?.spec?.template as { spec?: { containers?: unknown[] } } | undefined)?.spec?.containers ?? []) as {
    args?: string[];
    env?: { name: string; value?: string }[];
  }[];
  for (const c of containers) {
    const args = c.args ?? [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.startsWith('--leaf-lifetime=')) return parseLeafLifetime(a.slice('--leaf-lifetime='.length), '--leaf-lifetime');
      if (a === '--leaf-lifetime' && args[i + 1] !== undefined) return parseLeafLifetime(args[i + 1], '--leaf-lifetime');
    }
    const env = c.env?.find((e) => e.name === 'WEFT_CONTROL_LEAF_LIFETIME')?.value;
    if (env !== undefined && env !== '') return parseLeafLifetime(env, 'WEFT_CONTROL_LEAF_LIFETIME');
  }
  return DEFAULT_LEAF_LIFETIME_SECONDS;
}

export async function caCheck(client: ClusterClient, namespace: string, now: Date, minSeconds: number = CA_MIN_SECONDS): Promise<CheckResult> {
  const name = 'CA certificates';
  return guarded(name, async () => {
    // The control plane keeps its CA in weft-ca, also when it was given an external one (it copies it there).
    const secretName = 'weft-ca';
    const secret = await client.get({ type: Secret, namespace, name: secretName });
    if (secret === undefined) {
      return fail(name, `Secret ${namespace}/${secretName} not found`, `The control plane creates it on first start: is weft-control running? (kubectl -n ${namespace} logs deploy/weft-control)`);
    }
    const pem = Object.values((secret.data ?? {}))
      .map((v) => Buffer.from(v, 'base64').toString('utf8'))
      .join('\n');
    const certs = certificatesIn(pem);
    if (certs.length === 0) return fail(name, `Secret ${namespace}/${secretName} holds no certificate`, 'Fill it with ca.crt (CA certificate, then its parents) and ca.key.');
    // The issuing CA (first in ca.crt) caps every leaf at its own expiry: with less than one leaf lifetime
    // left, leaves come out shorter at each renewal until nothing can be issued.
    const issuing = certificatesIn(Buffer.from(secret.data?.['ca.crt'] ?? '', 'base64').toString('utf8'))[0];
    const leafLifetime = leafLifetimeOf(await client.get({ type: Deployment, namespace, name: 'weft-control' }));
    const short = issuing === undefined ? undefined : shorterThanLeafLifetime(issuing, leafLifetime, now);
    if (short !== undefined) {
      return fail(
        name,
        short,
        `Rotate the CA now, without restarts: the old and new roots in roots.pem of Secret ${namespace}/weft-ca, then the new ca.crt/ca.key, then the old root removed (docs/rotation.md). Lowering control.leafCertLifetimeSeconds only hides this.`,
        'WEFT-C031',
      );
    }
    const verdicts = certs.map((c) => judgeCertificate(c, now, minSeconds));
    const bad = verdicts.filter((v) => v.problem !== undefined);
    if (bad.length > 0) {
      return fail(name, bad.map((v) => `${v.subject}: ${v.problem ?? ''}`).join('; '), 'Rotate the CA without restarts: put the old and new roots in roots.pem of Secret weft-ca, then switch ca.crt/ca.key, then remove the old root (docs/rotation.md).', 'WEFT-C030');
    }
    const soonest = verdicts.reduce((a, b) => (a.daysLeft <= b.daysLeft ? a : b));
    const root = await client.get({ type: ConfigMap, namespace, name: 'weft-ca-root' });
    if (root === undefined) {
      return fail(name, `CA valid (${soonest.subject}, ${soonest.daysLeft} days left) but ConfigMap ${namespace}/weft-ca-root (the trust root node agents mount) is missing`, `The control plane publishes it; kubectl -n ${namespace} logs deploy/weft-control`);
    }
    return ok(name, `${certs.length} certificate(s) valid; soonest expiry ${soonest.notAfter.toISOString().slice(0, 10)} (${soonest.daysLeft} days, ${soonest.subject})`);
  });
}

export async function clusterChecks(client: ClusterClient, options: CheckOptions): Promise<CheckResult[]> {
  const now = options.now ?? new Date();
  const api = await apiCheck(client);
  const rest: [string, () => Promise<CheckResult>][] = [
    ['Gateway API CRDs', () => gatewayApiCheck(client)],
    ['weft CRDs', () => weftCrdCheck(client)],
    ['control plane', () => controlPlaneCheck(client, options.namespace)],
    ['waypoint GatewayClass', () => gatewayClassCheck(client, options.namespace)],
    ['node agents', () => nodeAgentCheck(client, options.namespace)],
    ['CNI chained', () => cniCheck(client, options.namespace)],
    ['CA certificates', () => caCheck(client, options.namespace, now, options.caExpirySeconds)],
  ];
  if (api.status === 'fail' && !/older than/.test(api.message)) return [api, ...rest.map(([n]) => skip(n, API_DOWN))];
  const out = [api];
  for (const [, run] of rest) out.push(await run());
  return out;
}
