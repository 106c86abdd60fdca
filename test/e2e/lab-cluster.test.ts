// Pins the lab's promise as a cluster: two nodes, four pods placed on both, the Debian CNI plugins
// driven through each node's conflist, pod→pod across nodes and pod→Service VIP (by name) working from
// curl inside a pod, probes passing, and `lab down` leaving no namespace, link, process or state dir.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../../lab/command.js';
import { CONFLIST_FILE } from '../../lab/cni-conflist.js';
import { isAlive, listRecords, type ProcRecord } from '../../lab/processes.js';
import { startLab, type Lab } from '../support/lab.js';
import { describeRoot } from '../support/root.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: e2e }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: e2e }
spec:
  replicas: 2
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
        - name: echo
          image: weft/http-echo
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 1 }
          livenessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: e2e }
spec:
  selector: { app: echo }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: client1, namespace: e2e }
spec:
  nodeName: n1
  containers: [{ name: debian, image: debian, command: [sleep, infinity] }]
---
apiVersion: v1
kind: Pod
metadata: { name: client2, namespace: e2e }
spec:
  nodeName: n2
  containers: [{ name: debian, image: debian, command: [sleep, infinity] }]
`;

interface Echo {
  pod: string;
  peer: { address: string };
}

describeRoot('weft lab: 2 nodes, 4 pods (needs root: network namespaces)', () => {
  let lab: Lab;
  let records: ProcRecord[] = [];

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
    await lab.apply(MANIFESTS);
    await lab.waitPodsReady({ minPods: 4, timeoutMs: 120_000 });
  });

  afterAll(async () => {
    await lab?.down();
  });

  it('places the pods on both nodes with IPs from each node\'s pod CIDR', async () => {
    const s = await lab.status();
    expect(s.nodes.map((n) => n.name)).toEqual(['n1', 'n2']);
    expect(s.pods).toHaveLength(4);
    const echo = s.pods.filter((p) => p.name.startsWith('echo-'));
    expect(new Set(echo.map((p) => p.node))).toEqual(new Set(['n1', 'n2']));
    for (const p of s.pods) {
      const idx = p.node.slice(1);
      expect(p.ip.startsWith(`10.244.${idx}.`)).toBe(true);
      expect(p.phase).toBe('Running');
    }
    // Beside the API server's own (default/kubernetes, the range's first address).
    expect(s.services.map((v) => [v.namespace, v.name])).toEqual([['default', 'kubernetes'], ['e2e', 'echo']]);
    expect(s.services[1].vip).toMatch(/^10\.96\./);
  });

  it('ran the Debian bridge/host-local chain from the node\'s conflist (IPAM state in the lab dir)', async () => {
    const s = await lab.status();
    for (const node of ['n1', 'n2']) {
      const np = lab.paths.node(node);
      const conflist = JSON.parse(await readFile(join(np.confDir, CONFLIST_FILE), 'utf8')) as { plugins: { type: string }[] };
      // weft-cni is chained last exactly when the lab runs node agents (dist/node-agent built).
      const expected = ['bridge', 'portmap', ...(lab.info.agent ? ['weft-cni'] : [])];
      expect(conflist.plugins.map((p) => p.type)).toEqual(expected);
      const allocated = await readdir(join(np.ipamDir, 'weft-lab'));
      for (const p of s.pods.filter((x) => x.node === node)) expect(allocated).toContain(p.ip);
    }
    const r = await lab.exec('e2e/client1', ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
    expect(r.stdout).toContain(s.pods.find((p) => p.name === 'client1')!.ip);
  });

  it('pod → pod across nodes: the echo on n2 sees client1\'s pod IP', async () => {
    const s = await lab.status();
    const target = s.pods.find((p) => p.name.startsWith('echo-') && p.node === 'n2')!;
    const client = s.pods.find((p) => p.name === 'client1')!;
    const r = await lab.exec('e2e/client1', ['curl', '-sS', '-m', '10', `http://${target.ip}:8080/hello`]);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as Echo;
    expect(body.pod).toBe(target.name);
    expect(body.peer.address).toBe(client.ip);
  });

  it('pod → Service VIP by name and by address, from pods on both nodes', async () => {
    const s = await lab.status();
    const vip = s.services.find((v) => v.name === 'echo')!.vip;
    const echoNames = new Set(s.pods.filter((p) => p.name.startsWith('echo-')).map((p) => p.name));
    for (const [client, url] of [
      ['e2e/client1', 'http://echo/'],
      ['e2e/client2', 'http://echo.e2e.svc.cluster.local/'],
      ['e2e/client2', `http://${vip}/`],
    ] as const) {
      const r = await lab.exec(client, ['curl', '-sS', '-m', '10', url]);
      expect(r.code, `${client} ${url}: ${r.stderr}`).toBe(0);
      expect(echoNames.has((JSON.parse(r.stdout) as Echo).pod)).toBe(true);
    }
  });

  it('readiness and liveness probes pass (Ready, no restarts)', async () => {
    await new Promise((r) => setTimeout(r, 5000)); // several liveness periods
    const s = await lab.status();
    for (const p of s.pods) {
      expect(p.ready, `${p.name}`).toBe(true);
      expect(p.restarts, `${p.name}`).toBe(0);
    }
  });

  it('lab down leaves no namespace, link, process, mount or state dir', async () => {
    records = await listRecords(lab.paths.procs);
    expect(records.length).toBeGreaterThanOrEqual(2 + 4 + 4); // kubelets, Kubernetes control plane, pods
    const left = await lab.down();
    expect(left).toEqual({ namespaces: [], etcDirs: [], stateDir: false, mounts: [] });
    for (const r of records) expect(isAlive(r), `${r.id} pid ${r.pid}`).toBe(false);
    const links = await run(['ip', '-o', 'link', 'show']);
    expect(links.stdout).not.toContain(`weft-${lab.name}-`);
    const netns = await run(['ip', 'netns', 'list']);
    expect(netns.stdout).not.toContain(`weft-${lab.name}-`);
  });
});
