// Pins: `weft check` against the Kubernetes API (the double) passes a healthy install with one ✔ line per
// check and exit 0, and each broken piece (Gateway API CRDs missing or too old, weft CRD missing, control
// plane not ready, GatewayClass not accepted, agent missing on a node, CNI not chained, CA near expiry,
// trust root missing, API too old or unreachable) turns into its own ✖ line with a fix and exit 1.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand, runChecks } from '../../cli/commands/check.js';
import { KubeClusterClient } from '../../cli/kube/kube-cluster.js';
import { KubeApiServerDouble, kubeconfigFor } from '../support/kube-apiserver.js';
import { addApiExtras, capture, kubeClient, seedHealthyInstall, type ApiExtras } from './cluster-fixture.js';
import { ROOT } from './cli-bundle.js';

const NS = 'weft-system';

describe('weft check (Kubernetes API)', () => {
  let api: KubeApiServerDouble;
  let extras: ApiExtras;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    extras = addApiExtras(api);
    await seedHealthyInstall(api);
  });
  afterEach(async () => {
    await api.close();
  });

  async function statusOf(check: string, now?: Date): Promise<{ status: string; message: string; fix?: string; code?: string }> {
    const results = await runChecks(kubeClient(api), { pre: false, namespace: NS, ...(now === undefined ? {} : { now }) });
    const r = results.find((x) => x.check === check);
    if (r === undefined) throw new Error(`no check ${check} in ${results.map((x) => x.check).join(', ')}`);
    return r;
  }

  it('passes a healthy install: every line ✔, exit 0', async () => {
    const c = capture();
    const code = await checkCommand(kubeClient(api), { pre: false, namespace: NS, output: 'table' }, c.printer);
    expect(c.out.filter((l) => l.startsWith('✖') || l.startsWith('!'))).toEqual([]);
    expect(c.out.filter((l) => l.startsWith('✔'))).toHaveLength(11);
    // The analyzers' lines: no finding; the certificates the data plane holds need its admin endpoints.
    expect(c.out.filter((l) => l.startsWith('- '))).toEqual([expect.stringMatching(/^- workload certificates: the admin endpoints/)]);
    expect(c.out.at(-1)).toBe('all checks passed');
    expect(code).toBe(0);
  });

  it('JSON output carries every check and the verdict', async () => {
    const c = capture();
    await checkCommand(kubeClient(api), { pre: false, namespace: NS, output: 'json' }, c.printer);
    const doc = JSON.parse(c.out.join('\n')) as { passed: boolean; checks: { check: string; status: string }[] };
    expect(doc.passed).toBe(true);
    expect(doc.checks.map((x) => x.check)).toEqual([
      'Kubernetes API', 'Gateway API CRDs', 'weft CRDs', 'control plane', 'waypoint GatewayClass', 'node agents', 'CNI chained', 'CA certificates',
      'routes', 'authorization policies', 'node agents of captured pods', 'workload certificates',
    ]);
  });

  it('a missing Gateway API CRD fails with the kubectl apply to run, and exits 1', async () => {
    api.remove('customresourcedefinitions', undefined, 'grpcroutes.gateway.networking.k8s.io', 'apiextensions.k8s.io');
    const c = capture();
    const code = await checkCommand(kubeClient(api), { pre: false, namespace: NS, output: 'table' }, c.printer);
    expect(code).toBe(1);
    const i = c.out.findIndex((l) => l.startsWith('✖ Gateway API CRDs'));
    // The control plane's error word for word: the code, the CRD and the command that installs it.
    expect(c.out[i]).toMatch(/ERR_WEFT_SOURCE_CRD_MISSING: .*CustomResourceDefinition grpcroutes\.gateway\.networking\.k8s\.io is not installed; install it with: kubectl apply --server-side -f .*gateway-api\/releases\/download\/v1\.7\.0/);
    expect(c.out[i + 1]).toMatch(/fix: Run the command in the message/);
  });

  it('Gateway API CRDs older than v1.2.0 fail; an HTTPRoute schema without spec.rules[].retry only warns (the API server drops retries), whatever the channel', async () => {
    const crd = api.getObject('customresourcedefinitions', undefined, 'httproutes.gateway.networking.k8s.io', 'apiextensions.k8s.io')!;
    api.put({ ...crd, metadata: { ...crd.metadata, annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.0.0', 'gateway.networking.k8s.io/channel': 'experimental' } } });
    expect(await statusOf('Gateway API CRDs')).toMatchObject({ status: 'fail', message: expect.stringContaining('v1.0.0') as string });
    for (const p of ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes']) {
      const c = api.getObject('customresourcedefinitions', undefined, `${p}.gateway.networking.k8s.io`, 'apiextensions.k8s.io')!;
      api.put({ ...c, metadata: { ...c.metadata, annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.6.2', 'gateway.networking.k8s.io/channel': 'standard' } } });
    }
    // A schema with the retry field (v1.7.0's standard channel has it): no warning, whatever the channel.
    expect(await statusOf('Gateway API CRDs')).toMatchObject({ status: 'ok', message: 'v1.6.2 (standard channel)' });
    const routes = api.getObject('customresourcedefinitions', undefined, 'httproutes.gateway.networking.k8s.io', 'apiextensions.k8s.io')!;
    api.put({ ...routes, spec: { ...(routes.spec as object), versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { properties: { spec: { properties: { rules: { items: { properties: {} } } } } } } } }] } });
    expect(await statusOf('Gateway API CRDs')).toMatchObject({ status: 'warn', message: expect.stringContaining('no spec.rules[].retry') as string });
  });

  it('the weft CRD missing fails', async () => {
    api.remove('customresourcedefinitions', undefined, 'authorizationpolicies.security.weft.dev', 'apiextensions.k8s.io');
    expect(await statusOf('weft CRDs')).toMatchObject({ status: 'fail', fix: expect.stringContaining('weft install') as string });
  });

  it('a control plane with no ready replica fails; a partly ready one warns', async () => {
    const d = api.getObject('deployments', NS, 'weft-control', 'apps')!;
    api.put({ ...d, spec: { ...(d.spec as object), replicas: 3 }, status: { readyReplicas: 2 } });
    expect((await statusOf('control plane')).status).toBe('warn');
    api.put({ ...d, status: { readyReplicas: 0 } });
    expect(await statusOf('control plane')).toMatchObject({ status: 'fail', fix: expect.stringContaining('logs deploy/weft-control') as string });
  });

  it('the GatewayClass not accepted fails', async () => {
    const gc = api.getObject('gatewayclasses', undefined, 'weft-waypoint', 'gateway.networking.k8s.io')!;
    api.put({ ...gc, status: {} });
    expect(await statusOf('waypoint GatewayClass')).toMatchObject({ status: 'fail', message: expect.stringContaining('not accepted') as string });
  });

  it('a node without a ready agent is named; a cordoned node is not required', async () => {
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-c', labels: { 'kubernetes.io/os': 'linux' } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(await statusOf('node agents')).toMatchObject({ status: 'fail', message: expect.stringContaining('node-c') as string });
    expect(await statusOf('CNI chained')).toMatchObject({ status: 'fail', message: expect.stringContaining('node-c') as string });
    api.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-c' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect((await statusOf('node agents')).status).toBe('ok');
  });

  it('install-cni not ready on a node fails "CNI chained" for that node only', async () => {
    const p = api.getObject('pods', NS, 'weft-node-agent-node-b')!;
    api.put({ ...p, status: { ...(p.status as object), containerStatuses: [{ name: 'node-agent', ready: true }, { name: 'install-cni', ready: false }] } });
    const r = await statusOf('CNI chained');
    expect(r.status).toBe('fail');
    expect(r.message).toContain('node-b');
    expect(r.message).not.toContain('node-a');
  });

  it('install-cni in a fight over the conflist is its own finding: "contested", its code, the node, the other writer and the setting to change', async () => {
    api.register({ group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true });
    const p = api.getObject('pods', NS, 'weft-node-agent-node-b')!;
    api.put({ ...p, status: { ...(p.status as object), containerStatuses: [{ name: 'node-agent', ready: true }, { name: 'install-cni', ready: false }] } });
    const event = (name: string, at: string, output: string): void => {
      api.put({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: NS },
        involvedObject: { kind: 'Pod', namespace: NS, name: 'weft-node-agent-node-b', fieldPath: 'spec.containers{install-cni}' },
        reason: 'Unhealthy',
        type: 'Warning',
        lastTimestamp: at,
        message: `Readiness probe failed: ${output}\n`,
      });
    };
    // An older failure (weft-cni missing), then the contest the probe printed from the status file.
    event('e1', '2026-12-07T10:00:00Z', '');
    event('e2', '2026-12-07T10:05:00Z', JSON.stringify({ state: 'contested', file: '05-cilium.conflist', reverts: 5, code: 'ERR_WEFT_CNI_INSTALL_CONTESTED', writer: 'Cilium', setting: 'cni.exclusive=false (Cilium Helm value)', since: '2026-12-07T10:04:00Z' }));
    const r = await statusOf('CNI chained');
    expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C022' });
    expect(r.message).toMatch(/^contested: /);
    expect(r.message).toContain('node-b (05-cilium.conflist, 5 removals, other writer: Cilium)');
    expect(r.message).not.toContain('node-a');
    expect(r.fix).toContain('--set cni.exclusive=false');
    // Without the writer known, the finding still names the node and the settings to look at.
    event('e3', '2026-12-07T10:06:00Z', JSON.stringify({ state: 'contested', file: '10-other.conflist', reverts: 3 }));
    const unknown = await statusOf('CNI chained');
    expect(unknown).toMatchObject({ code: 'WEFT-C022', message: expect.stringContaining('other writer: unknown') as string });
    expect(unknown.fix).toContain('cni.exclusive=false');
    // A probe failure that is not a contest stays the plain "not chained" line.
    event('e4', '2026-12-07T10:07:00Z', JSON.stringify({ state: 'no-config', since: '2026-12-07T10:07:00Z' }));
    expect(await statusOf('CNI chained')).toMatchObject({ status: 'fail', message: expect.stringContaining('not chained on 1/2 node(s): node-b') as string });
    expect((await statusOf('CNI chained')).code).toBeUndefined();
  });

  it('a CA that expires within 30 days fails with the rotation fix; a valid one passes', async () => {
    expect((await statusOf('CA certificates')).status).toBe('ok');
    const secret = api.getObject('secrets', NS, 'weft-ca')!;
    const pem = Buffer.from((secret.data as Record<string, string>)['ca.crt'], 'base64').toString();
    const { x509 } = await import('../../lib/identity/crypto.js');
    const notAfter = new x509.X509Certificate(pem).notAfter;
    const r = await statusOf('CA certificates', new Date(notAfter.getTime() - 10 * 86_400_000));
    expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C030', message: expect.stringMatching(/expires in (9|10) days/) as string, fix: expect.stringContaining('Rotate') as string });
    // The fix names the rotation procedure, and that document exists.
    expect(r.fix).toContain('docs/rotation.md');
    expect(existsSync(join(ROOT, 'docs/rotation.md'))).toBe(true);
    expect((await statusOf('CA certificates', new Date(notAfter.getTime() + 1000))).message).toContain('expired');
    // --ca-expiry-threshold 5d: 10 days left passes.
    const lenient = await runChecks(kubeClient(api), { pre: false, namespace: NS, now: new Date(notAfter.getTime() - 10 * 86_400_000), caExpirySeconds: 5 * 86_400 });
    expect(lenient.find((x) => x.check === 'CA certificates')?.status).toBe('ok');
  });

  it('an issuing CA that expires before one leaf lifetime fails with its stable code; --leaf-lifetime on weft-control sets that lifetime', async () => {
    const { CertificateAuthority } = await import('../../lib/identity/index.js');
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', lifetimeDays: 0.5 }); // 12 h left
    const b64 = (t: string): string => Buffer.from(t).toString('base64');
    api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'weft-ca', namespace: NS }, type: 'weft.dev/ca', data: { 'ca.crt': b64(ca.certPem), 'ca.key': b64(ca.keyPem) } });
    const r = await statusOf('CA certificates');
    expect(r).toMatchObject({ status: 'fail', code: 'WEFT-C031', message: expect.stringContaining('less than one leaf lifetime (24 h)') as string });
    expect(r.fix).toContain('Rotate the CA');
    expect(r.fix).toContain('docs/rotation.md');
    const c = capture();
    await checkCommand(kubeClient(api), { pre: false, namespace: NS, output: 'table' }, c.printer);
    expect(c.out.find((l) => l.startsWith('✖ CA certificates'))).toContain('[WEFT-C031]');
    // Leaves of 1 h fit in the 12 h left: no leaf-lifetime finding (the 30-day rule still fails, WEFT-C030).
    const d = api.getObject('deployments', NS, 'weft-control', 'apps')!;
    api.put({ ...d, spec: { ...(d.spec as object), template: { spec: { containers: [{ name: 'control', args: ['--source=kube', '--leaf-lifetime=3600'] }] } } } });
    const short = await statusOf('CA certificates');
    expect(short.code).toBe('WEFT-C030');
    expect(short.message).toMatch(/expires in 0 days/);
  });

  it('the trust root ConfigMap missing fails the CA check', async () => {
    api.remove('configmaps', NS, 'weft-ca-root');
    expect(await statusOf('CA certificates')).toMatchObject({ status: 'fail', message: expect.stringContaining('weft-ca-root') as string });
  });

  it('a Kubernetes older than 1.29 fails the API check', async () => {
    extras.version = { major: '1', minor: '28', gitVersion: 'v1.28.9' };
    expect(await statusOf('Kubernetes API')).toMatchObject({ status: 'fail', message: expect.stringContaining('v1.28.9') as string });
  });

  it('an unreachable API server fails once and skips the rest', async () => {
    const url = api.url;
    await api.close();
    const client = new KubeClusterClient(kubeconfigFor({ url }));
    const c = capture();
    const code = await checkCommand(client, { pre: false, namespace: NS, output: 'table' }, c.printer);
    expect(code).toBe(1);
    expect(c.out[1]).toMatch(/^✖ Kubernetes API: ERR_WEFT_CLI_API_UNREACHABLE: the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
    expect(c.out.filter((l) => l.startsWith('- '))).toHaveLength(11); // 7 checks and the 4 analyzers
    api = await KubeApiServerDouble.start(); // afterEach closes it
  });
});
