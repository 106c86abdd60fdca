// Pins issue 11 step 4 (first part): weft-control with `--source kube` against the lab's real API server
// (until now the Kubernetes source met only the hand-written double). Its informers list and watch every
// kind (the Gateway API CRDs pinned in the repo and the chart's CRD installed server-side), status writes
// land through the /status subresource, leader election holds a real Lease, the CA goes to a Secret and
// the trust root to a ConfigMap, and Certify authenticates a TokenRequest'd, pod-bound node-agent token
// through TokenReview and checks it against real pod-to-node bindings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseControlArgs } from '../../control/config.js';
import { startControl, type ControlProcess } from '../../control/main.js';
import { DEFAULT_LEASE_NAME } from '../../control/leader.js';
import { CA_SECRET_NAME } from '../../control/ca-store.js';
import { WEFT_CONTROLLER_NAME } from '../../control/status/conditions.js';
import { ControlCertifier } from '../../lib/control-client/certifier.js';
import { SpiffeId, TrustBundle, createCsr, generateKeyPair } from '../../lib/identity/index.js';
import { createLogger } from '../../lib/telemetry/log.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { startLab, type Lab } from '../support/lab.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CRDS = [join(ROOT, 'third_party', 'gateway-api', 'v1.7.0', 'standard'), join(ROOT, 'helm', 'weft', 'files', 'crds')];

const pod = (namespace: string, name: string, node: string, sa: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  // No kubelet reports these nodes (lab kubelets do not register yet): the pods tolerate the node
  // lifecycle controller's NoExecute taints so that they are not evicted while the test runs.
  spec: { nodeName: node, serviceAccountName: sa, containers: [{ name: 'c', image: 'weft/http-echo' }], tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] },
});

const OBJECTS = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft-system' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft.dev/dataplane-mode': 'ambient' } } },
  // Nodes exist so that the pod garbage collector keeps the pods bound to them.
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'tn1' } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'tn2' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'weft-node-agent', namespace: 'weft-system' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cart', namespace: 'shop' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'other', namespace: 'shop' } },
  pod('weft-system', 'agent-tn1', 'tn1', 'weft-node-agent'),
  pod('shop', 'cart-1', 'tn1', 'cart', { app: 'cart' }),
  pod('shop', 'other-1', 'tn2', 'other'),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'cart-route', namespace: 'shop' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'cart', port: 80 }], rules: [{ backendRefs: [{ name: 'cart', port: 80 }] }] },
  },
];

describeRootKube('weft-control --source kube against the lab API server (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  let dir: string;
  let proc: ControlProcess | undefined;
  let certifier: ControlCertifier | undefined;
  const savedKubeconfig = process.env.KUBECONFIG;
  const k = (args: readonly string[], input?: string) => kubectlOn(kubeconfig, args, { input });
  const getJson = async <T>(args: readonly string[]): Promise<T> => JSON.parse((await k(['get', '-o', 'json', ...args])).stdout) as T;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-tkctl-'));
    lab = await startLab({ nodes: 1, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
    for (const crds of CRDS) await k(['apply', '--server-side', '-f', crds]);
    await k(['wait', '--for=condition=Established', '--timeout=120s', 'crd', '--all']);
    for (const o of OBJECTS) await k(['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], JSON.stringify(o));

    // The process reads the default kubeconfig, as `weft-control --source kube` does outside a pod.
    process.env.KUBECONFIG = kubeconfig;
    const flags = ['--source', 'kube', '--listen', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--health-address', '127.0.0.1:0', '--namespace', 'weft-system'];
    proc = await startControl(await parseControlArgs(flags), createLogger({ name: 'weft-control', level: process.env.WEFT_LOG_LEVEL ?? 'silent' }));
  }, 600_000);

  afterAll(async () => {
    certifier?.close();
    await proc?.close();
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await lab?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('informers see the Service, the Pods and the HTTPRoute, and follow changes', async () => {
    const source = proc!.source;
    expect(source.get({ kind: 'Service', namespace: 'shop', name: 'cart' })).toBeDefined();
    expect(source.get({ kind: 'Pod', namespace: 'shop', name: 'cart-1' })).toMatchObject({ spec: { nodeName: 'tn1' } });
    expect(source.get({ kind: 'HTTPRoute', namespace: 'shop', name: 'cart-route' })).toBeDefined();
    expect(source.get({ kind: 'Namespace', name: 'shop' })).toMatchObject({ metadata: { labels: { 'weft.dev/dataplane-mode': 'ambient' } } });

    await k(['create', 'service', 'clusterip', 'late', '-n', 'shop', '--tcp=81:8081']);
    await eventually(() => source.get({ kind: 'Service', namespace: 'shop', name: 'late' }), 60_000, 'the new Service in the source');
    await k(['delete', 'service', 'late', '-n', 'shop']);
    await eventually(() => source.get({ kind: 'Service', namespace: 'shop', name: 'late' }) === undefined, 60_000, 'the deleted Service gone from the source');
  }, 180_000);

  it('caches objects without their managedFields, and pods with only the fields it reads, listed or watched', async () => {
    const source = proc!.source;
    const listed = await getJson<{ metadata: { managedFields?: unknown[] } }>(['pod', 'cart-1', '-n', 'shop', '--show-managed-fields']);
    expect(listed.metadata.managedFields?.length).toBeGreaterThan(0);
    expect(source.get({ kind: 'Pod', namespace: 'shop', name: 'cart-1' })?.metadata).not.toHaveProperty('managedFields');
    // Pods keep only what the control plane reads (control/sources/kube-cache-trim.ts).
    const cached = source.get({ kind: 'Pod', namespace: 'shop', name: 'cart-1' }) as { spec?: Record<string, unknown> } | undefined;
    expect(cached?.spec).toEqual({ nodeName: 'tn1', serviceAccountName: 'cart', containers: [{ name: 'c' }] });
    await k(['label', 'pod', 'cart-1', '-n', 'shop', 'weft-test/trim=watched', '--overwrite']);
    const watched = await eventually(() => {
      const p = source.get({ kind: 'Pod', namespace: 'shop', name: 'cart-1' });
      return p?.metadata.labels?.['weft-test/trim'] === 'watched' ? p : undefined;
    }, 60_000, 'the relabelled pod from the watch');
    expect(watched.metadata).not.toHaveProperty('managedFields');
  }, 120_000);

  it('takes the EndpointSlices of the real controller manager, and every object of the real server validates', async () => {
    // As a kubelet would report it: the pod runs, is ready and has an address.
    const status = { status: { phase: 'Running', podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }], conditions: [{ type: 'Ready', status: 'True' }] } };
    await k(['patch', 'pod', 'cart-1', '-n', 'shop', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    const source = proc!.source;
    const slice = await eventually(
      () =>
        source
          .list('EndpointSlice')
          .find((s) => s.metadata.namespace === 'shop' && s.metadata.labels?.['kubernetes.io/service-name'] === 'cart' && JSON.stringify(s).includes('10.244.1.7')),
      120_000,
      'the EndpointSlice of shop/cart with the pod address, in the source',
    );
    expect(slice).toMatchObject({ addressType: 'IPv4' });
    expect(source.invalidObjects?.() ?? []).toEqual([]);
  }, 180_000);

  it('leads through a real Lease, keeps its CA in a Secret and publishes the trust root', async () => {
    const lease = await eventually(
      async () => {
        const l = await getJson<{ spec?: { holderIdentity?: string } }>(['lease', DEFAULT_LEASE_NAME, '-n', 'weft-system']).catch(() => undefined);
        return l?.spec?.holderIdentity ? l : undefined;
      },
      60_000,
      'the Lease held',
    );
    expect(lease.spec?.holderIdentity).toBeTruthy();
    const secret = await getJson<{ data?: Record<string, string> }>(['secret', CA_SECRET_NAME, '-n', 'weft-system']);
    expect(Object.keys(secret.data ?? {}).length).toBeGreaterThan(0);
    const root = await eventually(
      () => kubectlOn(kubeconfig, ['get', 'configmap', 'weft-ca-root', '-n', 'weft-system', '-o', 'json'], { allowFailure: true }).then((r) => r.code === 0 && r.stdout),
      60_000,
      'the weft-ca-root ConfigMap',
    );
    expect(root).toContain(proc!.ca.rootsPem[0].trim().split('\n')[1]);
  }, 180_000);

  it('writes route status through the status subresource', async () => {
    type Route = { status?: { parents?: { controllerName: string; conditions: { type: string; status: string; reason: string }[] }[] } };
    const parents = await eventually(
      async () => {
        const r = await getJson<Route>(['httproute', 'cart-route', '-n', 'shop']);
        return r.status?.parents?.find((p) => p.controllerName === WEFT_CONTROLLER_NAME);
      },
      60_000,
      'weft status on the HTTPRoute',
    );
    // No waypoint serves the Service: the route is answered, not accepted.
    expect(parents.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'NoMatchingParent' });
  }, 120_000);

  it('server-side applies a waypoint Gateway\'s ServiceAccount, Deployment and Service, owned by the Gateway', async () => {
    const gateway = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: 'shop' },
      spec: { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    };
    await k(['apply', '--server-side', '--field-manager=weft-test', '-f', '-'], JSON.stringify(gateway));
    type Owned = { metadata: { ownerReferences?: { kind: string; name: string }[]; managedFields?: { manager: string; operation: string }[] } };
    for (const kind of ['serviceaccount', 'deployment', 'service']) {
      const o = await eventually(
        () => kubectlOn(kubeconfig, ['get', kind, 'waypoint', '-n', 'shop', '-o', 'json', '--show-managed-fields'], { allowFailure: true }).then((r) => r.code === 0 && (JSON.parse(r.stdout) as Owned)),
        60_000,
        `the waypoint ${kind}`,
      );
      expect(o.metadata.ownerReferences, kind).toEqual([expect.objectContaining({ kind: 'Gateway', name: 'waypoint' })]);
      expect(o.metadata.managedFields?.some((f) => f.operation === 'Apply' && f.manager !== 'weft-test'), kind).toBe(true);
    }
  }, 120_000);

  it('certifies a node agent by TokenReview for pods on its node, and only those', async () => {
    const token = (await k(['create', 'token', 'weft-node-agent', '-n', 'weft-system', '--audience=weft', '--duration=10m', '--bound-object-kind=Pod', '--bound-object-name=agent-tn1'])).stdout.trim();
    const tokenFile = join(dir, 'agent.token');
    await writeFile(tokenFile, token, { mode: 0o600 });
    certifier = new ControlCertifier({ address: `127.0.0.1:${proc!.grpcPort}`, caRootPem: proc!.ca.rootsPem.join(''), tokenFile });

    const cart = SpiffeId.of('cluster.local', 'shop', 'cart');
    const chain = await certifier.certify(await createCsr(cart, await generateKeyPair()), cart, 3600);
    await new TrustBundle(proc!.ca.rootsPem).verifyChain(chain);

    // other-1 runs on tn2: the agent of tn1 may not have its identity.
    const other = SpiffeId.of('cluster.local', 'shop', 'other');
    const refused = await certifier.certify(await createCsr(other, await generateKeyPair()), other, 3600).catch((e: unknown) => e);
    expect(String((refused as Error).message)).toMatch(/no pod on node tn1 runs as service account shop\/other/);
  }, 120_000);
});
