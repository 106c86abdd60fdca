// Pins issue 11 (the chart defects of "Why", through the real helm and kubectl against the lab's real
// API server): weft-control --source kube in namespace mesh, started before any CRD exists, logs one
// ERR_WEFT_SOURCE_CRD_MISSING naming the Gateway API CRD and the command that installs it (weft check
// says the same) and serves meanwhile; after `kubectl apply --server-side` of the pinned Gateway API CRDs
// and `helm install weft ./helm/weft -n mesh`, a waypoint Gateway gets a Deployment with the chart's image,
// resources, securityContexts, replicas and control address weft-control.mesh.svc:15012, and a
// PodDisruptionBudget, all admitted by the real API server; `helm upgrade` to a changed chart upgrades
// the CRD and rolls the waypoint; `helm uninstall` keeps the CRD; and credentials the server refuses are
// one clear error in weft-control and in the CLI.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseControlArgs } from '../../control/config.js';
import { startControl, type ControlProcess } from '../../control/main.js';
import { KubeSource } from '../../control/sources/kube.js';
import { GATEWAY_API_INSTALL } from '../../lib/crd-install.js';
import { hasCode } from '../../lib/errors/index.js';
import { createLogger } from '../../lib/telemetry/log.js';
import { bundleCli, runWeft, type Bundle } from '../cli/cli-bundle.js';
import { CHART, cleanupHelmHome, helm } from '../helm/chart.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { startLab, type Lab } from '../support/lab.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GATEWAY_CRDS = join(ROOT, 'third_party', 'gateway-api', 'v1.7.0', 'standard');
const WEFT_CRD = 'authorizationpolicies.security.weft.dev';

const GATEWAY = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'waypoint', namespace: 'shop' },
  spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
};

interface Deployment {
  spec: {
    replicas: number;
    template: { spec: { securityContext?: unknown; containers: { image: string; args: string[]; resources?: unknown; securityContext?: unknown; imagePullPolicy?: string }[] } };
  };
}

describeRootKube('the chart on the lab\'s real API server, release namespace mesh (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  let dir: string;
  let proc: ControlProcess | undefined;
  let cli: Bundle | undefined;
  const logLines: string[] = [];
  const savedKubeconfig = process.env.KUBECONFIG;
  const k = (args: readonly string[], input?: string) => kubectlOn(kubeconfig, args, { input });
  const getJson = async <T>(args: readonly string[]): Promise<T | undefined> => {
    const r = await kubectlOn(kubeconfig, ['get', '-o', 'json', ...args], { allowFailure: true });
    return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
  };
  const helmOn = async (args: readonly string[]) => {
    const r = await helm([...args, '--kubeconfig', kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-t-hck-'));
    cli = await bundleCli('hck');
    lab = await startLab({ nodes: 1, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
    await k(['create', 'namespace', 'mesh']);
    await k(['create', 'namespace', 'shop']);
    // Before any CRD: the control plane must still start, and say what is missing.
    process.env.KUBECONFIG = kubeconfig;
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) });
    const flags = ['--source', 'kube', '--listen', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--health-address', '127.0.0.1:0', '--namespace', 'mesh'];
    proc = await startControl(await parseControlArgs(flags), createLogger({ name: 'weft-control', level: 'info', destination: sink }));
  }, 600_000);

  afterAll(async () => {
    await proc?.close();
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await lab?.down();
    await cli?.cleanup();
    await cleanupHelmHome();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('without the Gateway API CRDs: weft-control runs and names the missing CRD and its install command, as weft check does', async () => {
    const missing = logLines.map((l) => JSON.parse(l) as { code?: string; msg: string }).filter((l) => l.code === 'ERR_WEFT_SOURCE_CRD_MISSING');
    const gatewayClass = missing.find((l) => l.msg.includes('CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io is not installed'));
    expect(gatewayClass?.msg).toContain(`install it with: ${GATEWAY_API_INSTALL}`);
    expect(missing.filter((l) => l === gatewayClass || l.msg === gatewayClass?.msg)).toHaveLength(1); // once, not per retry

    const check = await runWeft(cli!, ['check', '--kubeconfig', kubeconfig, '-n', 'mesh']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/✖ Gateway API CRDs: ERR_WEFT_SOURCE_CRD_MISSING: the Kubernetes API does not serve .*gatewayclasses\.gateway\.networking\.k8s\.io.* is not installed; install it with: /);
    expect(check.stdout).toContain(GATEWAY_API_INSTALL);
  }, 120_000);

  it('helm install -n mesh: a waypoint runs the chart\'s image with its parameters and dials the control plane in mesh', async () => {
    await k(['apply', '--server-side', '-f', GATEWAY_CRDS]);
    await k(['wait', '--for=condition=Established', '--timeout=120s', 'crd', '--all']);
    await helmOn(['install', 'weft', CHART, '-n', 'mesh']);
    expect((await getJson<{ metadata: { annotations: Record<string, string> } }>(['crd', WEFT_CRD]))?.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    await k(['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], JSON.stringify(GATEWAY));

    // The source retries a missing CRD with backoff (up to 30 s): allow for the next list.
    const deploy = await eventually(() => getJson<Deployment>(['deployment', 'waypoint', '-n', 'shop']), 120_000, 'the waypoint Deployment');
    const [c] = deploy.spec.template.spec.containers;
    expect(c?.image).toBe('ghcr.io/weft-mesh/weft:0.1.0');
    expect(c?.imagePullPolicy).toBe('IfNotPresent');
    expect(c?.args.slice(0, 4)).toEqual(['--gateway', 'shop/waypoint', '--control', 'weft-control.mesh.svc:15012']);
    expect(c?.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(deploy.spec.template.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(deploy.spec.replicas).toBe(2);
    const pdb = await eventually(() => getJson<{ spec: { maxUnavailable: number } }>(['pdb', 'waypoint', '-n', 'shop']), 60_000, 'the PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    const accepted = await eventually(async () => {
      const gc = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(['gatewayclass', 'weft-waypoint']);
      return gc?.status?.conditions?.find((x) => x.type === 'Accepted' && x.status === 'True');
    }, 60_000, 'GatewayClass weft-waypoint accepted');
    expect(accepted).toBeDefined();
  }, 300_000);

  it('helm upgrade to a changed chart upgrades the CRD and rolls the waypoint', async () => {
    const chart = join(dir, 'weft');
    await cp(CHART, chart, { recursive: true });
    const crdFile = join(chart, 'files', 'crds', `${WEFT_CRD}.yaml`);
    const crd = parse(await readFile(crdFile, 'utf8')) as { metadata: { annotations: Record<string, string> } };
    crd.metadata.annotations['weft.dev/bundle-version'] = 'v0.1.1-test';
    await writeFile(crdFile, stringify(crd));
    await helmOn(['upgrade', 'weft', chart, '-n', 'mesh', '--reuse-values', '--set', 'waypoint.replicas=3']);
    const live = await getJson<{ metadata: { annotations: Record<string, string> } }>(['crd', WEFT_CRD]);
    expect(live?.metadata.annotations['weft.dev/bundle-version']).toBe('v0.1.1-test');
    await eventually(async () => (await getJson<Deployment>(['deployment', 'waypoint', '-n', 'shop']))?.spec.replicas === 3, 60_000, 'the waypoint at 3 replicas');
  }, 180_000);

  it('helm uninstall keeps the CRD', async () => {
    await helmOn(['uninstall', 'weft', '-n', 'mesh']);
    expect(await getJson(['crd', WEFT_CRD])).toBeDefined();
  }, 120_000);

  it('credentials the API server refuses: one clear error in weft-control and in the CLI', async () => {
    const doc = parse(await readFile(kubeconfig, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
    for (const u of doc.users) u.user = { token: 'not-a-valid-token' };
    const bad = join(dir, 'bad-credentials.kubeconfig');
    await writeFile(bad, stringify(doc));

    const kc = new KubeConfig();
    kc.loadFromFile(bad);
    const source = new KubeSource({ kubeConfig: kc });
    const err = await source.start().catch((e: unknown) => e);
    await source.stop();
    expect(hasCode(err, 'ERR_WEFT_SOURCE_KUBE_UNAUTHORIZED'), String(err)).toBe(true);
    expect((err as Error).message).toContain(`refused the credentials of user ${doc.users[0]?.name ?? ''}`);

    const check = await runWeft(cli!, ['check', '--kubeconfig', bad, '-n', 'mesh']);
    expect(check.code).not.toBe(0);
    expect(`${check.stdout}${check.stderr}`).toContain('ERR_WEFT_CLI_UNAUTHENTICATED');
  }, 120_000);
});
