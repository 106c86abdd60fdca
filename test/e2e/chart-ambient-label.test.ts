// Pins issue 11 step 5's capture flow on a 2-node lab with the chart installed by the real helm (as typed,
// `--wait`): `kubectl label namespace demo weft.dev/dataplane-mode=ambient` captures the pods that already
// run in demo (the node agents find their network namespaces through the host's /proc) and the pods made
// after it (weft-cni, chained by install-cni, enrolls them at sandbox creation). Asserted on real
// traffic: before the label a request reaches web with no agent in the path; after it, a request from
// each client to the web Service (by name, through the node's kube-proxy) arrives over HBONE, and the
// agent beside web writes an inbound access-log line naming both SPIFFE IDs (the client's and web's,
// certificates the agents got from weft-control), with the client's IP.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChartLab, type ChartLab } from '../support/chart-lab.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube } from '../support/kube-tools.js';
import type { Lab } from '../support/lab.js';

const NS = 'weft-system';

const client = (name: string, node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'demo', labels: { app: name } },
  spec: { nodeName: node, serviceAccountName: 'client', containers: [{ name: 'c', image: 'debian', command: ['sleep', 'infinity'] }] },
});

const demo = (webNode: string) => [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'client', namespace: 'demo' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'demo' } },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } },
    spec: {
      nodeName: webNode,
      serviceAccountName: 'web',
      containers: [{ name: 'app', image: 'weft/http-echo', env: [{ name: 'PORT', value: '8080' }], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } }],
    },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
];

describeRootKube('kubectl label namespace … ambient captures running and new pods, through helm and kubectl (root)', () => {
  let cluster: ChartLab | undefined;
  let lab: Lab | undefined;
  const k = (args: readonly string[], input?: string) => cluster!.k(args, input);
  const podIp = async (name: string) => (await k(['get', 'pod', name, '-n', 'demo', '-o', 'jsonpath={.status.podIP}'])).stdout.trim();
  /** The node agent's log on a node (the chart's DaemonSet pod there; the lab keeps each container's log). */
  const agentLog = async (node: string): Promise<string> => {
    const pod = (await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-node-agent', '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    return readFile(join(lab!.paths.logs, `pod-${NS}.${pod}-node-agent.log`), 'utf8');
  };

  beforeAll(async () => {
    cluster = await startChartLab({ install: 'helm install weft ./helm/weft -n weft-system --create-namespace --wait' });
    lab = cluster.lab;
    await k(['create', 'namespace', 'demo']);
    const [n1, n2] = lab.info.nodes.map((n) => n.name);
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...demo(n2), client('client-before', n1)] }));
    await k(['wait', '--for=condition=Ready', 'pod', '--all', '-n', 'demo', '--timeout=120s']);
  }, 600_000);

  afterAll(async () => {
    await cluster?.down();
  }, 180_000);

  it('labelling the namespace captures the pod already running and a pod made after it: both reach web over HBONE with their SPIFFE IDs', async () => {
    const n2 = lab!.info.nodes[1].name;
    // Before the label nothing in demo is captured: the request reaches web directly, no agent sees it.
    const before = await lab!.exec('demo/client-before', ['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://web/']);
    expect(before.stdout, before.stderr).toBe('200');
    const beforeIp = await podIp('client-before');
    expect((await agentLog(n2)).split('\n').filter((l) => l.includes('"log":"access"') && l.includes(beforeIp))).toEqual([]);
    await k(['label', 'namespace', 'demo', 'weft.dev/dataplane-mode=ambient']);
    await k(['apply', '-f', '-'], JSON.stringify(client('client-after', lab!.info.nodes[0].name)));
    await k(['wait', '--for=condition=Ready', 'pod/client-after', '-n', 'demo', '--timeout=120s']);
    for (const name of ['client-before', 'client-after']) {
      const ip = await podIp(name);
      const line = await eventually(async () => {
        const r = await lab!.exec(`demo/${name}`, ['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://web/']);
        if (r.stdout !== '200') return undefined;
        return (await agentLog(n2)).split('\n').find((l) => l.includes('"log":"access"') && l.includes('"direction":"inbound"') && l.includes(ip));
      }, 60_000, `an inbound access-log line on ${n2} for ${name} (${ip})`);
      expect(line).toContain('spiffe://cluster.local/ns/demo/sa/client');
      expect(line).toContain('spiffe://cluster.local/ns/demo/sa/web');
    }
  }, 240_000);
});
