// Pins issue 11 steps 3 and 5 for the chart on a 2-node lab, through the real helm and kubectl against the
// lab's kubeconfig, typed as docs/install.md prints them: `helm install weft ./helm/weft -n weft-system
// --create-namespace --wait` returns only once the real controller-manager's DaemonSet pods run Ready on
// every lab node and weft-control runs Ready. The lab kubelets run them as a kubelet does: the node agent
// pods on the node's network (hostNetwork: podIP = the node's address, no CNI call), the chart's hostPaths
// mapped to each node's own directories (never the machine's /etc/cni or /opt/cni), the chart's image
// `weft` running the repository's programs with the chart's command and args ($(NODE_NAME) expanded), exec
// readiness probes run in the container, projected tokens through TokenRequest, weft-control with
// in-cluster API access. install-cni chains weft-cni into each node's conflist and copies the plugin into
// its bin dir. The agent on the node without weft-control reaches it through the Service's VIP: each node's
// kube-proxy DNATs it to the endpoints of the EndpointSlices the real controller keeps, read with
// system:kube-proxy's credentials. The documented uninstall (`helm upgrade … cni.keepOnExit=false --wait`,
// `helm uninstall --wait`) leaves every node's conflist byte-identical to before. A pod asking for a
// hostPath the lab cannot map is refused with a clear reason.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONFLIST_FILE } from '../../lab/cni-conflist.js';
import { run } from '../../lab/command.js';
import { cleanupHelmHome, helm, ROOT } from '../helm/chart.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, kubectlOn } from '../support/kube-tools.js';
import { CLI, startLab, type Lab } from '../support/lab.js';

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
  /** A helm command line as a user types it in the repository's root, with KUBECONFIG exported. */
  const typed = async (line: string) => {
    const r = await helm(line.split(' ').slice(1), { kubeconfig, cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const agentPods = async (): Promise<PodJson[]> => (JSON.parse((await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-node-agent', '-o', 'json'])).stdout) as { items: PodJson[] }).items;
  const conflist = (node: string) => readFile(join(lab!.paths.node(node).confDir, CONFLIST_FILE), 'utf8');
  const containerReady = (p: PodJson, name: string) => p.status.containerStatuses?.find((c) => c.name === name)?.ready === true;
  const controlPods = async (): Promise<PodJson[]> => (JSON.parse((await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-control', '-o', 'json'])).stdout) as { items: PodJson[] }).items;

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

  it('helm install --wait, as typed: returns with a Ready node agent on every node, on the node\'s network, with install-cni chaining weft-cni into that node\'s conflist', async () => {
    await typed('helm install weft ./helm/weft -n weft-system --create-namespace --wait');
    const nodes = lab!.info.nodes;
    // No waiting here: --wait returned, so everything it waits for is Ready now.
    const pods = await agentPods();
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(nodes.map((n) => n.name)));
    expect(pods).toHaveLength(nodes.length);
    for (const p of pods) {
      const node = nodes.find((n) => n.name === p.spec.nodeName)!;
      expect(p.spec.hostNetwork).toBe(true);
      expect(p.status.podIP).toBe(node.ip);
      expect(p.status.hostIP).toBe(node.ip);
      expect(p.status.phase).toBe('Running');
      expect(containerReady(p, 'install-cni') && containerReady(p, 'node-agent'), JSON.stringify(p.status)).toBe(true);
      const chained = JSON.parse(await conflist(node.name)) as { plugins: { type: string; cni_socket?: string }[] };
      expect(chained.plugins.map((x) => x.type)).toEqual([...(JSON.parse(before.get(node.name)!) as { plugins: { type: string }[] }).plugins.map((x) => x.type), 'weft-cni']);
      // The chart's /var/run/weft is the node's own directory: the socket the node's agent serves.
      expect(chained.plugins.at(-1)?.cni_socket).toBe(join(lab!.paths.node(node.name).dir, 'run-weft', 'cni.sock'));
      expect(existsSync(join(lab!.paths.node(node.name).binDir, 'weft-cni'))).toBe(true);
    }
    const control = await controlPods();
    expect(control).toHaveLength(1);
    expect(containerReady(control[0], 'control')).toBe(true);
    expect(await machineCni()).toBe(machineBefore);
  }, 420_000);

  it('the node without weft-control reaches it through the Service VIP, DNATed to the EndpointSlice\'s ready endpoint', async () => {
    const [control] = await controlPods();
    const other = lab!.info.nodes.find((n) => n.name !== control.spec.nodeName)!;
    // The real EndpointSlice controller's slice names the control pod's address, ready, at the named ports.
    const slices = JSON.parse((await k(['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=weft-control', '-o', 'json'])).stdout) as {
      items: { ports: { name: string; port: number }[]; endpoints: { addresses: string[]; conditions: { ready: boolean } }[] }[];
    };
    const endpoints = slices.items.flatMap((x) => x.endpoints);
    expect(endpoints.map((e) => [e.addresses, e.conditions.ready])).toEqual([[[control.status.podIP], true]]);
    expect(slices.items[0].ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'http-metrics', port: 15020 })]));
    // From the other node's network (where its agent runs), the VIP answers with weft-control's metrics:
    // both nodes' agents hold a state stream to it (the other node's went through this same VIP).
    const vip = (await k(['get', 'service', 'weft-control', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
    await eventually(async () => {
      const r = await run(['ip', 'netns', 'exec', other.netns, 'curl', '-sS', '--max-time', '5', `http://${vip}:15020/metrics`], { allowFailure: true, timeoutMs: 10_000 });
      const watchers = /^weft_control_watchers (\d+)$/m.exec(r.stdout)?.[1];
      return watchers === String(lab!.info.nodes.length) ? true : undefined;
    }, 30_000, `weft_control_watchers ${lab!.info.nodes.length} at ${vip}:15020 from ${other.name}`);
  }, 120_000);

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

  it('`weft lab exec` into a node agent pod (hostNetwork, no namespace of its own) runs in its node\'s network', async () => {
    for (const p of await agentPods()) {
      // As a user types it: the agent's readiness endpoint answers on the node's loopback, and the pod's
      // address is the node's.
      const r = await run([process.execPath, CLI, 'lab', 'exec', '--lab', lab!.name, `${NS}/${p.metadata.name}`, '--', 'sh', '-c', 'curl -sS --max-time 5 -o /dev/null -w "%{http_code}" http://127.0.0.1:15021/healthz/ready; ip -o -4 addr show'], { allowFailure: true, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith('200'), r.stdout).toBe(true);
      expect(r.stdout).toContain(` ${p.status.podIP}/`);
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

  it('the documented uninstall (keepOnExit off with helm upgrade --wait, then helm uninstall --wait) leaves every node\'s conflist byte-identical and weft-cni out of its bin dir', async () => {
    await typed('helm upgrade weft ./helm/weft -n weft-system --reuse-values --set cni.keepOnExit=false --wait');
    await typed('helm uninstall weft -n weft-system --wait');
    await eventually(async () => ((await agentPods()).length === 0 ? true : undefined), 120_000, 'the node agent pods gone');
    for (const n of lab!.info.nodes) {
      expect(await conflist(n.name)).toBe(before.get(n.name));
      expect(existsSync(join(lab!.paths.node(n.name).binDir, 'weft-cni'))).toBe(false);
    }
    expect(await machineCni()).toBe(machineBefore);
  }, 600_000);
});
