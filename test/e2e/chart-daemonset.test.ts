// Pins issue 11 steps 3 and 5 for the chart, through the real helm and kubectl against the lab's kubeconfig:
// after `helm install weft ./helm/weft -n weft-system --create-namespace` the real controller-manager's
// DaemonSet pods run on every lab node and weft-control runs Ready. The lab kubelets run them as a kubelet
// does: the node agent pods on the node's network (hostNetwork: podIP = the
// node's address, no CNI call), the chart's hostPaths mapped to each node's own directories (never the
// machine's /etc/cni or /opt/cni), the chart's image `weft` running the repository's programs with the
// chart's command and args ($(NODE_NAME) expanded), exec readiness probes run in the container, projected
// tokens through TokenRequest, weft-control with in-cluster API access. install-cni chains weft-cni into
// each node's conflist and copies the plugin into its bin dir; the node agent beside weft-control gets its
// certificates from it and turns ready (an agent on another node cannot reach it yet: a node's kube-proxy
// knows only its own node's endpoints, the lab reads no EndpointSlices); `helm uninstall --wait` with
// cni.keepOnExit off leaves every node's conflist byte-identical to before. A pod asking for a hostPath the lab cannot map is refused with a
// clear reason.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONFLIST_FILE } from '../../lab/cni-conflist.js';
import { CHART, cleanupHelmHome, helm } from '../helm/chart.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { startLab, type Lab } from '../support/lab.js';

const NS = 'weft-system';
const GATEWAY_CRDS = join(import.meta.dirname, '..', '..', 'third_party', 'gateway-api', 'v1.7.0', 'standard');

interface PodJson {
  metadata: { name: string };
  spec: { nodeName?: string; hostNetwork?: boolean };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state: { running?: unknown; waiting?: { reason: string; message?: string } } }[];
  };
}

/** The machine's own CNI directories: the lab must never write there. */
async function machineCni(): Promise<string> {
  const list = async (d: string) => (existsSync(d) ? (await readdir(d)).sort().join(',') : '(none)');
  return `${await list('/etc/cni/net.d')} | ${await list('/opt/cni/bin')}`;
}

describeRootKube('the chart\'s DaemonSet on the lab kubelets, through helm and kubectl (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  const before = new Map<string, string>();
  let machineBefore = '';
  const k = (args: readonly string[], input?: string) => kubectlOn(kubeconfig, args, { input });
  const helmOn = async (args: readonly string[]) => {
    const r = await helm([...args, '--kubeconfig', kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const agentPods = async (): Promise<PodJson[]> => (JSON.parse((await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-node-agent', '-o', 'json'])).stdout) as { items: PodJson[] }).items;
  const conflist = (node: string) => readFile(join(lab!.paths.node(node).confDir, CONFLIST_FILE), 'utf8');
  const containerReady = (p: PodJson, name: string) => p.status.containerStatuses?.find((c) => c.name === name)?.ready === true;

  beforeAll(async () => {
    machineBefore = await machineCni();
    lab = await startLab({ nodes: 2, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
    for (const n of lab.info.nodes) before.set(n.name, await conflist(n.name));
    // The chart's GatewayClass needs the Gateway API CRDs first (docs/install.md).
    await k(['apply', '--server-side', '-f', GATEWAY_CRDS]);
    await k(['wait', '--for=condition=Established', '--timeout=120s', 'crd', '--all']);
  }, 360_000);

  afterAll(async () => {
    await lab?.down();
    await cleanupHelmHome();
  }, 180_000);

  it('helm install: a node agent pod per node, on the node\'s network, with install-cni chaining weft-cni into that node\'s conflist', async () => {
    // cni.keepOnExit=false: docs/install.md's uninstall turns it off with `helm upgrade --wait`, which needs
    // every node agent Ready (see above); here it is off from the start.
    await helmOn(['install', 'weft', CHART, '-n', NS, '--create-namespace', '--set', 'cni.keepOnExit=false']);
    const nodes = lab!.info.nodes;
    const pods = await eventually(async () => {
      const ps = await agentPods();
      return ps.length === nodes.length && ps.every((p) => containerReady(p, 'install-cni')) ? ps : undefined;
    }, 180_000, 'a weft-node-agent pod per node with install-cni ready');
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(nodes.map((n) => n.name)));
    for (const p of pods) {
      const node = nodes.find((n) => n.name === p.spec.nodeName)!;
      expect(p.spec.hostNetwork).toBe(true);
      expect(p.status.podIP).toBe(node.ip);
      expect(p.status.hostIP).toBe(node.ip);
      expect(p.status.phase).toBe('Running');
      const chained = JSON.parse(await conflist(node.name)) as { plugins: { type: string; cni_socket?: string }[] };
      expect(chained.plugins.map((x) => x.type)).toEqual([...(JSON.parse(before.get(node.name)!) as { plugins: { type: string }[] }).plugins.map((x) => x.type), 'weft-cni']);
      // The chart's /var/run/weft is the node's own directory: the socket the node's agent serves.
      expect(chained.plugins.at(-1)?.cni_socket).toBe(join(lab!.paths.node(node.name).dir, 'run-weft', 'cni.sock'));
      expect(existsSync(join(lab!.paths.node(node.name).binDir, 'weft-cni'))).toBe(true);
    }
    expect(await machineCni()).toBe(machineBefore);
  }, 300_000);

  it('weft-control runs in-cluster, Ready, and the node agent on its node gets its certificates and turns ready', async () => {
    await k(['rollout', 'status', 'deployment/weft-control', '-n', NS, '--timeout=240s']);
    const control = (JSON.parse((await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-control', '-o', 'json'])).stdout) as { items: PodJson[] }).items;
    expect(control).toHaveLength(1);
    await eventually(async () => {
      const agent = (await agentPods()).find((p) => p.spec.nodeName === control[0].spec.nodeName);
      return agent && containerReady(agent, 'node-agent') ? agent : undefined;
    }, 240_000, `the node agent on ${control[0].spec.nodeName ?? '?'} ready`);
  }, 600_000);

  it('the node agents carry a token the API server bound to their pod and node', async () => {
    for (const p of await agentPods()) {
      // The projected weft-token volume: a token the API server issued for this pod on its node (audience weft).
      const token = await readFile(join(lab!.paths.root, 'volumes', `${NS}.${p.metadata.name}`, 'weft-token', 'token'), 'utf8');
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { aud: string[]; sub: string; 'kubernetes.io': { pod: { name: string }; node?: { name: string } } };
      expect(claims.aud).toEqual(['weft']);
      expect(claims.sub).toBe(`system:serviceaccount:${NS}:weft-node-agent`);
      expect(claims['kubernetes.io'].pod.name).toBe(p.metadata.name);
      expect(claims['kubernetes.io'].node?.name).toBe(p.spec.nodeName);
    }
  }, 120_000);

  it('a hostPath the lab cannot map is refused with the reason in the pod\'s status', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'wants-etc', namespace: 'default' },
      spec: {
        containers: [{ name: 'c', image: 'debian', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'etc', mountPath: '/host/etc' }] }],
        volumes: [{ name: 'etc', hostPath: { path: '/etc' } }],
      },
    };
    await k(['apply', '-f', '-'], JSON.stringify(pod));
    const p = await eventually(async () => {
      const x = JSON.parse((await k(['get', 'pod', 'wants-etc', '-o', 'json'])).stdout) as PodJson;
      return x.status.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError' ? x : undefined;
    }, 60_000, 'the refusal in the pod status');
    expect(p.status.containerStatuses?.[0]?.state.waiting?.message).toContain('hostPath /etc of default/wants-etc cannot be mounted in the lab');
    await k(['delete', 'pod', 'wants-etc', '--wait=true']);
  }, 120_000);

  it('helm uninstall: install-cni\'s cleanup leaves every node\'s conflist byte-identical and weft-cni out of its bin dir', async () => {
    await helmOn(['uninstall', 'weft', '-n', NS, '--wait', '--timeout', '5m']);
    await eventually(async () => ((await agentPods()).length === 0 ? true : undefined), 120_000, 'the node agent pods gone');
    for (const n of lab!.info.nodes) {
      expect(await conflist(n.name)).toBe(before.get(n.name));
      expect(existsSync(join(lab!.paths.node(n.name).binDir, 'weft-cni'))).toBe(false);
    }
    expect(await machineCni()).toBe(machineBefore);
  }, 600_000);
});
