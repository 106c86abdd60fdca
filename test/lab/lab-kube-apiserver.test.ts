// Pins issue 11 step 2: `weft lab up` runs a real Kubernetes control plane in the lab's root namespace
// (etcd, kube-apiserver with Node,RBAC, the lab's service-account issuer and keys, the VIP range as the
// Service ClusterIP range and the default admission plugins, kube-controller-manager, kube-scheduler) and
// `weft lab kubeconfig` gives the host an admin kubeconfig that the real kubectl uses through a loopback
// forward: namespaces list, a TokenRequest'd ServiceAccount token passes TokenReview (and is refused by
// RBAC), the pinned Gateway API CRDs and the chart's CRDs apply server-side and validate, `up` again
// changes nothing, and `down` leaves no process, namespace, port or file.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KUBE_PROCESS_IDS } from '../../lab/kube/lab-control-plane.js';
import { isAlive, listRecords, type ProcRecord } from '../../lab/processes.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { startLab, type Lab } from '../support/lab.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GATEWAY_CRDS = join(ROOT, 'third_party', 'gateway-api', 'v1.7.0', 'standard');
const CHART_CRDS = join(ROOT, 'helm', 'weft', 'files', 'crds');

describeRootKube('weft lab up: a real Kubernetes API server, and its kubeconfig on the host (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  let records: ProcRecord[];
  const k = (args: readonly string[], input?: string) => kubectlOn(kubeconfig, args, { input });

  beforeAll(async () => {
    lab = await startLab({ nodes: 1, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
    records = await listRecords(lab.paths.procs);
  }, 360_000);

  afterAll(async () => {
    await lab?.down();
  }, 120_000);

  it('runs each component as a recorded process, and the printed kubeconfig works with the host kubectl', async () => {
    const ids = records.map((r) => r.id);
    for (const id of KUBE_PROCESS_IDS) expect(ids).toContain(id);
    for (const r of records.filter((r) => (KUBE_PROCESS_IDS as readonly string[]).includes(r.id))) expect(isAlive(r), r.id).toBe(true);

    expect(kubeconfig).toBe(join(lab!.paths.root, 'kube', 'admin.kubeconfig'));
    const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    expect(lab!.info.kube?.hostPort).toBeGreaterThan(0);
    expect(config.clusters[0].cluster.server).toBe(`https://127.0.0.1:${lab!.info.kube?.hostPort}`);
    // --raw is the same file (certificates inline: readable when copied anywhere).
    expect((await lab!.cli(['kubeconfig', '--raw'])).stdout).toBe(readFileSync(kubeconfig, 'utf8'));

    const ns = await k(['get', 'namespaces', '-o', 'name']);
    expect(ns.stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system', 'namespace/kube-public']));
  });

  it('allocates Service ClusterIPs from the lab VIP range, and the controller manager runs', async () => {
    expect((await k(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'])).stdout).toBe('10.96.0.1');
    await k(['create', 'namespace', 'tk']);
    await k(['create', 'service', 'clusterip', 'web', '-n', 'tk', '--tcp=80:8080']);
    expect((await k(['get', 'service', 'web', '-n', 'tk', '-o', 'jsonpath={.spec.clusterIP}'])).stdout).toMatch(/^10\.96\.\d+\.\d+$/);
    const outside = await kubectlOn(kubeconfig, ['create', 'service', 'clusterip', 'far', '-n', 'tk', '--tcp=80:8080', '--clusterip=10.0.0.10'], { allowFailure: true });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toMatch(/not in the valid range|range/);
    // The root-CA publisher (a default controller) fills new namespaces: the controller manager works.
    const ca = await eventually(
      async () => (await kubectlOn(kubeconfig, ['get', 'configmap', 'kube-root-ca.crt', '-n', 'tk', '-o', 'jsonpath={.data.ca\\.crt}'], { allowFailure: true })).stdout || undefined,
      120_000,
      'kube-root-ca.crt in namespace tk',
      500,
    );
    expect(ca).toContain('BEGIN CERTIFICATE');
  }, 180_000);

  it('issues real ServiceAccount tokens: TokenRequest, TokenReview authenticated, RBAC enforced, admission defaults', async () => {
    await k(['create', 'serviceaccount', 'reader', '-n', 'tk']);
    const token = (await k(['create', 'token', 'reader', '-n', 'tk', '--audience=weft', '--duration=10m'])).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const review = (t: string) =>
      k(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t, audiences: ['weft'] } })).then(
        (r) => (JSON.parse(r.stdout) as { status: { authenticated?: boolean; user?: { username?: string }; audiences?: string[] } }).status,
      );
    const ok = await review(token);
    expect(ok.authenticated).toBe(true);
    expect(ok.user?.username).toBe('system:serviceaccount:tk:reader');
    expect(ok.audiences).toEqual(['weft']);
    expect((await review(`${token.slice(0, -4)}AAAA`)).authenticated).not.toBe(true);

    // RBAC: the ServiceAccount has no role, so the API server refuses it.
    // A token for the API server's own audience (the weft one is not valid there), and only the token:
    // the admin kubeconfig's client certificate would authenticate first.
    const own = (await k(['create', 'token', 'reader', '-n', 'tk', '--duration=10m'])).stdout.trim();
    const asToken = [`--server=https://127.0.0.1:${lab!.info.kube?.hostPort}`, `--certificate-authority=${join(lab!.paths.root, 'kube', 'pki', 'ca.crt')}`, `--token=${own}`];
    const weftOnly = await kubectlOn('/dev/null', [...asToken.slice(0, 2), `--token=${token}`, 'get', 'pods', '-n', 'tk'], { allowFailure: true });
    expect(weftOnly.stderr).toContain('Unauthorized');
    const denied = await kubectlOn('/dev/null', [...asToken, 'get', 'pods', '-n', 'tk'], { allowFailure: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('pods is forbidden: User "system:serviceaccount:tk:reader" cannot list resource "pods"');
    expect((await kubectlOn('/dev/null', [...asToken, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout).toBe('system:serviceaccount:tk:reader');
    const canI = await kubectlOn(kubeconfig, ['auth', 'can-i', 'list', 'pods', '-n', 'tk', '--as=system:serviceaccount:tk:reader'], { allowFailure: true });
    expect(canI.stdout.trim()).toBe('no');

    // Default admission plugins: NamespaceLifecycle refuses a missing namespace; ServiceAccount admission
    // gives a pod the default account and its projected token volume.
    const lifecycle = await kubectlOn(kubeconfig, ['create', 'configmap', 'x', '-n', 'no-such-ns'], { allowFailure: true });
    expect(lifecycle.stderr).toContain('namespaces "no-such-ns" not found');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'tk' }, spec: { containers: [{ name: 'c', image: 'weft/http-echo' }] } };
    const created = JSON.parse((await k(['create', '-o', 'json', '-f', '-'], JSON.stringify(pod))).stdout) as {
      spec: { serviceAccountName: string; volumes: { name: string; projected?: { sources: { serviceAccountToken?: { path: string } }[] } }[] };
    };
    expect(created.spec.serviceAccountName).toBe('default');
    const projected = created.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    expect(projected?.projected?.sources.some((s) => s.serviceAccountToken?.path === 'token')).toBe(true);
  }, 120_000);

  it('applies the pinned Gateway API CRDs and the chart CRDs server-side, and they validate', async () => {
    const gw = await k(['apply', '--server-side', '-f', GATEWAY_CRDS]);
    expect(gw.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io serverside-applied');
    const chart = await k(['apply', '--server-side', '-f', CHART_CRDS]);
    expect(chart.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/authorizationpolicies.security.weft.dev serverside-applied');
    await k(['wait', '--for=condition=Established', '--timeout=120s', 'crd/httproutes.gateway.networking.k8s.io', 'crd/gateways.gateway.networking.k8s.io', 'crd/authorizationpolicies.security.weft.dev']);
    expect((await k(['get', 'crd', 'httproutes.gateway.networking.k8s.io', '-o', 'jsonpath={.metadata.annotations.gateway\\.networking\\.k8s\\.io/bundle-version}'])).stdout).toBe('v1.7.0');

    const route = (timeout: string) =>
      JSON.stringify({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: `r-${timeout.replace(/[^a-z0-9]/g, '')}`, namespace: 'tk' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }], timeouts: { request: timeout } }] },
      });
    await k(['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], route('10s'));
    const bad = await kubectlOn(kubeconfig, ['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], { input: route('10x'), allowFailure: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.rules\[0\]\.timeouts\.request/);
    const policy = { apiVersion: 'security.weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny', namespace: 'tk' }, spec: { action: 'DENY', rules: [{}] } };
    await k(['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], JSON.stringify(policy));
  }, 240_000);

  it('`weft lab up` again changes nothing and says how to use the kubeconfig', async () => {
    const again = await lab!.cli(['up', '--nodes', '1', '--no-mesh']);
    expect(again.stdout).toContain(`kubectl --kubeconfig ${kubeconfig} get namespaces`);
    expect(again.stdout).toContain(`sudo weft lab kubeconfig --raw --lab ${lab!.name} > weft-${lab!.name}.kubeconfig`);
    const after = await listRecords(lab!.paths.procs);
    for (const id of KUBE_PROCESS_IDS) expect(after.find((r) => r.id === id)?.pid, id).toBe(records.find((r) => r.id === id)?.pid);
    expect((await k(['get', 'namespace', 'tk', '-o', 'name'])).stdout.trim()).toBe('namespace/tk');
  }, 180_000);

  it('`weft lab down` stops every component and leaves nothing', async () => {
    const lab0 = lab!;
    const all = await listRecords(lab0.paths.procs);
    const left = await lab0.down();
    lab = undefined;
    expect(left).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
    for (const r of all) expect(isAlive(r), r.id).toBe(false);
    // Nothing listens on the forwarded port any more.
    const port = lab0.info.kube?.hostPort ?? 0;
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.on('connect', () => (s.destroy(), resolve(false)));
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 120_000);
});
