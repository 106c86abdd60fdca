// Pins issue 11 step 3(a): each lab kubelet is a node of the real API server. It authenticates with a
// client certificate for system:node:<node> (group system:nodes) from the lab's cluster CA, registers a
// Node with the node's pod CIDR and address, keeps its Ready condition's heartbeat and its Lease in
// kube-node-lease fresh, and the Node authorizer and NodeRestriction treat it as that node (its own Node
// yes, another node's no). Each node's kube-proxy reads as system:kube-proxy (a certificate from the same
// CA), which the default binding system:node-proxier lets list Services and EndpointSlices everywhere and
// nothing of pods or secrets. Credentials the API server refuses are ERR_WEFT_LAB_KUBELET_REFUSED naming the
// node, and a node that never gets Ready fails `up` with ERR_WEFT_LAB_KUBE_START_FAILED naming its kubelet
// and log file.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { inNetns } from '../../lab/netns.js';
import { labKubePaths } from '../../lab/kube/lab-control-plane.js';
import { NodeApi } from '../../lab/kube/node-api.js';
import { waitNodesReady } from '../../lab/kube/nodes-ready.js';
import { writeControlPlanePki } from '../../lab/kube/pki.js';
import { silentLogger } from '../../lib/telemetry/log.js';
import { hasCode } from '../../lib/errors/index.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube, KUBECTL, kubectlOn } from '../support/kube-tools.js';
import { startLab, type Lab } from '../support/lab.js';

interface NodeJson {
  metadata: { name: string; labels: Record<string, string> };
  spec: { podCIDR?: string };
  status: { addresses: { type: string; address: string }[]; allocatable: Record<string, string>; conditions: { type: string; status: string; lastHeartbeatTime: string }[] };
}

describeRootKube('lab kubelets register real Nodes with node credentials (root)', () => {
  let lab: Lab | undefined;
  let kubeconfig: string;
  let scratch: string;
  const k = (args: readonly string[]) => kubectlOn(kubeconfig, args);
  /** Node n1's API client with these credentials, through the lab's forwarded port (the test runs on the host). */
  const nodeApi = (creds: { cert: string; key: string }): NodeApi => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'lab', server: `https://127.0.0.1:${lab!.info.kube!.hostPort}`, caFile: join(lab!.paths.root, 'kube', 'pki', 'ca.crt') }],
      users: [{ name: 'n1', certFile: creds.cert, keyFile: creds.key }],
      contexts: [{ name: 'lab', cluster: 'lab', user: 'n1' }],
      currentContext: 'lab',
    });
    return new NodeApi('n1', '/the/kubeconfig', kc, silentLogger);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'weft-tnodes-'));
    lab = await startLab({ nodes: 2, mesh: false });
    kubeconfig = (await lab.cli(['kubeconfig'])).stdout.trim();
  }, 360_000);

  afterAll(async () => {
    await lab?.down();
    await rm(scratch, { recursive: true, force: true });
  }, 120_000);

  it('lists every lab node Ready, with its pod CIDR, address and a schedulable capacity', async () => {
    const names = (await k(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).stdout.trim();
    expect(names.split('\n').sort()).toEqual(['n1=True', 'n2=True']);
    for (const info of lab!.info.nodes) {
      const node = JSON.parse((await k(['get', 'node', info.name, '-o', 'json'])).stdout) as NodeJson;
      expect(node.spec.podCIDR).toBe(info.podCIDR);
      expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: info.ip });
      expect(node.metadata.labels['kubernetes.io/hostname']).toBe(info.name);
      expect(Number(node.status.allocatable.pods)).toBeGreaterThan(0);
    }
  });

  it('renews each node Lease and the Ready heartbeat', async () => {
    const lease = async (): Promise<{ holder: string; renew: string }> => {
      const [holder, renew] = (await k(['get', 'lease', 'n1', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.holderIdentity} {.spec.renewTime}'])).stdout.split(' ');
      return { holder, renew };
    };
    const heartbeat = async (): Promise<string> =>
      (JSON.parse((await k(['get', 'node', 'n2', '-o', 'json'])).stdout) as NodeJson).status.conditions.find((c) => c.type === 'Ready')!.lastHeartbeatTime;
    const first = await lease();
    expect(first.holder).toBe('n1');
    const beat = await heartbeat();
    await eventually(async () => (await lease()).renew !== first.renew, 40_000, 'a renewed Lease', 500);
    await eventually(async () => (await heartbeat()) !== beat, 40_000, 'a newer Ready heartbeat', 500);
  }, 90_000);

  it('authenticates as system:node:<node>; Node authorization and NodeRestriction confine it to its own node', async () => {
    const files = labKubePaths(lab!.paths).node('n1');
    const cert = new X509Certificate(readFileSync(files.cert));
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:n1', 'O=system:nodes']);
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(lab!.paths.root, 'kube', 'pki', 'ca.crt'))))).toBe(true);
    // The node's kubeconfig names the API server as lab namespaces reach it: run kubectl from node n1.
    const asNode = (args: readonly string[]) =>
      run(inNetns(lab!.info.nodes[0].netns, [KUBECTL, `--kubeconfig=${files.kubeconfig}`, ...args]), { allowFailure: true, timeoutMs: 60_000 });
    const who = await asNode(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
    expect(who.stdout).toMatch(/^system:node:n1 .*system:nodes/);
    const own = await asNode(['label', 'node', 'n1', 'topology.kubernetes.io/zone=lab', '--overwrite']);
    expect(own.stdout).toContain('node/n1 labeled');
    // Another node: the Node authorizer refuses reading it, NodeRestriction refuses changing it.
    const read = await asNode(['get', 'node', 'n2']);
    expect(read.code).not.toBe(0);
    expect(read.stderr).toContain(`node 'n1' cannot read 'n2', only its own Node object`);
    // kubectl reads before it writes: the write goes straight to the API, with n1's own certificate.
    const patch = { body: { metadata: { labels: { 'topology.kubernetes.io/zone': 'lab' } } }, contentType: 'application/merge-patch+json' };
    const other = await nodeApi(files).call('PATCH', '/api/v1/nodes/n2', patch).catch((e: unknown) => e);
    expect(hasCode(other, 'ERR_WEFT_LAB_KUBELET_REFUSED')).toBe(true);
    expect((other as Error).message).toContain('PATCH /api/v1/nodes/n2 answered 403 (nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2")');
    await nodeApi(files).call('PATCH', '/api/v1/nodes/n1', patch);
    const secrets = await asNode(['get', 'secrets', '-n', 'kube-system']);
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toMatch(/forbidden: User "system:node:n1" cannot list resource "secrets"/);
  }, 60_000);

  it('kube-proxy authenticates as system:kube-proxy; RBAC (system:node-proxier) lets it watch Services and EndpointSlices, not read pods or secrets nor change Services', async () => {
    const files = labKubePaths(lab!.paths).proxy;
    expect(new X509Certificate(readFileSync(files.cert)).subject).toBe('CN=system:kube-proxy');
    const asProxy = (args: readonly string[]) =>
      run(inNetns(lab!.info.nodes[1].netns, [KUBECTL, `--kubeconfig=${files.kubeconfig}`, ...args]), { allowFailure: true, timeoutMs: 60_000 });
    expect((await asProxy(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout).toBe('system:kube-proxy');
    const can = async (verb: string, resource: string) => (await asProxy(['auth', 'can-i', verb, resource, '-A'])).stdout.trim();
    expect(await can('watch', 'services')).toBe('yes');
    expect(await can('watch', 'endpointslices.discovery.k8s.io')).toBe('yes');
    expect(await can('list', 'pods')).toBe('no');
    expect(await can('list', 'secrets')).toBe('no');
    expect(await can('update', 'services')).toBe('no');
  }, 60_000);

  it('names the node and its kubeconfig when the API server refuses the credentials', async () => {
    // A client certificate from another CA, presented at the lab's forwarded port.
    const foreign = await writeControlPlanePki(join(scratch, 'foreign'));
    const err = await nodeApi(foreign.clients.admin).call('GET', '/api/v1/nodes/n1').catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_KUBELET_REFUSED')).toBe(true);
    expect((err as Error).message).toBe(
      'the API server refused the kubelet of node n1: GET /api/v1/nodes/n1 answered 401 (Unauthorized); its credentials: /the/kubeconfig',
    );
  });

  it('fails `up` naming the kubelet and its log when a node never gets Ready', async () => {
    const err = await waitNodesReady({ kubeconfig, nodes: ['n1', 'n9'], logs: lab!.paths.logs, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_LAB_KUBE_START_FAILED')).toBe(true);
    expect((err as Error).message).toContain(`kubelet-n9 did not start: its Node was not Ready in the API server within 1500 ms (not Ready yet: n9) (log: ${join(lab!.paths.logs, 'kubelet-n9.log')}`);
  });
});
