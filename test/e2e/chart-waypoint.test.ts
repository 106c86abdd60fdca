// Pins issue 11 step 5's waypoint flow on a 2-node lab with the chart installed by the real helm into a
// namespace of the user's choosing (`-n weft-mesh`, so that nothing may assume weft-system), typed as a
// user types it against the lab's kubeconfig:
// 1. `weft waypoint apply -n demo --enroll-namespace` (the CLI from dist): weft-control's waypoint
//    controller (the chart's Deployment, `--source kube`) makes the waypoint Deployment from the chart's
//    GatewayClass parametersRef, the `weft-waypoint` ConfigMap — image, resources, securityContexts,
//    replicas, PodDisruptionBudget, the control address in the chart's namespace — and the real
//    controller-manager and scheduler make its pods run on the lab kubelets. The namespace is enrolled
//    only once a waypoint pod is Ready (watched while the command runs).
// 2. `kubectl apply -f` an HTTPRoute with a weighted split, a timeout and retries, each verified with curl
//    from a captured client pod: the split reaches both backends, a slow backend answers 504 at the
//    timeout, a failing backend is retried (the backend's echo of the final attempt says attempt 3). A
//    route whose parent Service opted out of the waypoint is not Accepted: it would have no effect.
// 3. `weft check -n weft-mesh` is green, and red naming the node when that node's agent process (its pid
//    from the lab's process records) is killed, until the kubelet has it Ready again.
// 4. `helm upgrade --reuse-values --set nodeAgent.terminationDrainSeconds=40 --wait` while the client
//    holds a TCP connection to a pod on the other node: the DaemonSet surges a new agent onto each node, the
//    old ones drain, the connection carries data through them, and once the client ends it they exit
//    ("drained", not cut at the end of their grace period) and helm's --wait, which waits for them, returns.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run, type RunResult } from '../../lab/command.js';
import { podNetns } from '../../lab/names.js';
import { netnsPath } from '../../lab/netns.js';
import { readRecord } from '../../lab/processes.js';
import { NetnsSocketFactory } from '../../node-agent/netns/socket-factory.js';
import { CHART } from '../helm/chart.js';
import { startChartLab, type ChartLab } from '../support/chart-lab.js';
import { EchoConnection } from '../support/echo-connection.js';
import { eventually } from '../support/eventually.js';
import { describeRootKube } from '../support/kube-tools.js';
import { CLI } from '../support/lab.js';

const NS = 'weft-mesh';

const echo = (name: string, version: string, node: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'demo', labels: { app: name } },
  spec: {
    nodeName: node,
    containers: [{
      name: 'app',
      image: 'weft/http-echo',
      env: [{ name: 'PORT', value: '8080' }, { name: 'POD_NAME', value: name }, { name: 'VERSION', value: version }],
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
    }],
  },
});
const service = (name: string, app: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'demo', labels },
  spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
});

const DEMO = (n1: string, n2: string) => ({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'weft.dev/dataplane-mode': 'ambient' } } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'demo' }, spec: { nodeName: n1, containers: [{ name: 'c', image: 'debian', command: ['sleep', 'infinity'] }] } },
    echo('v1', 'v1', n2),
    echo('v2', 'v2', n2),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'tcp', namespace: 'demo', labels: { app: 'tcp' } },
      spec: { nodeName: n2, containers: [{ name: 'app', image: 'weft/tcp-echo', ports: [{ containerPort: 9000 }], readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 } }] },
    },
    service('web', 'v1'),
    service('web-v1', 'v1'),
    service('web-v2', 'v2'),
    // Opted out of the namespace's waypoint: a route for it can have no effect.
    service('direct', 'v1', { 'weft.dev/use-waypoint': 'none' }),
  ],
});

const ROUTES = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: demo }
spec:
  parentRefs: [{ group: "", kind: Service, name: web, port: 80 }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /slow } }]
      timeouts: { request: 400ms }
      backendRefs: [{ name: web-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /flaky } }]
      retry: { codes: [503], attempts: 2 }
      backendRefs: [{ name: web-v1, port: 80 }]
    - backendRefs: [{ name: web-v1, port: 80, weight: 50 }, { name: web-v2, port: 80, weight: 50 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: direct, namespace: demo }
spec:
  parentRefs: [{ group: "", kind: Service, name: direct, port: 80 }]
  rules:
    - backendRefs: [{ name: web-v2, port: 80 }]
`;

interface Condition { type: string; status: string; reason?: string; message?: string }

describeRootKube('weft waypoint apply, an HTTPRoute and weft check on the chart-installed lab, through helm, kubectl and the weft CLI (root)', () => {
  let cluster: ChartLab | undefined;
  const k = (args: readonly string[], input?: string) => cluster!.k(args, input);
  const json = async <T>(args: readonly string[]): Promise<T> => JSON.parse((await k([...args, '-o', 'json'])).stdout) as T;
  /** The weft CLI from dist as a user types it with KUBECONFIG exported. */
  const weft = (line: string): Promise<RunResult> =>
    run([process.execPath, CLI, ...line.split(' ').slice(1)], { allowFailure: true, timeoutMs: 120_000, env: { ...process.env, KUBECONFIG: cluster!.kubeconfig } });
  /** curl in the client pod; prints `<status> <seconds>` and then the body. */
  const curl = (url: string) => cluster!.lab.exec('demo/client', ['curl', '-sS', '--max-time', '5', '-w', '\n%{http_code} %{time_total}', url]);
  const answer = (r: RunResult) => {
    const lines = r.stdout.trimEnd().split('\n');
    const [code, seconds] = (lines.pop() ?? '').split(' ');
    let body: { pod?: string; headers?: Record<string, string> } = {};
    try {
      body = JSON.parse(lines.join('\n')) as typeof body;
    } catch {
      // not the echo's JSON (a waypoint's own answer)
    }
    return { code, seconds: Number(seconds), body };
  };

  beforeAll(async () => {
    cluster = await startChartLab({ install: `helm install weft ./helm/weft -n ${NS} --create-namespace --wait` });
    const [n1, n2] = cluster.lab.info.nodes.map((n) => n.name);
    await k(['apply', '-f', '-'], JSON.stringify(DEMO(n1, n2)));
    await k(['wait', '--for=condition=Ready', 'pod', '--all', '-n', 'demo', '--timeout=120s']);
  }, 300_000);

  afterAll(async () => {
    await cluster?.down();
  }, 180_000);

  it('weft waypoint apply --enroll-namespace: a running waypoint Deployment from the chart\'s GatewayClass parameters, the namespace enrolled only once it is Ready', async () => {
    const cmd = weft('weft waypoint apply -n demo --enroll-namespace');
    // Watched while the command runs: each time the label is seen, a waypoint pod must already be Ready.
    let done = false;
    void cmd.finally(() => (done = true));
    let enrolledBeforeReady: string | undefined;
    let sawUnready = false;
    while (!done) {
      const ns = await json<{ metadata: { labels?: Record<string, string> } }>(['get', 'namespace', 'demo']);
      const pods = (await json<{ items: { metadata: { name: string }; status: { conditions?: Condition[] } }[] }>(['get', 'pods', '-n', 'demo', '-l', 'gateway.networking.k8s.io/gateway-name=waypoint'])).items;
      const ready = pods.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (ready.length === 0) sawUnready = true;
      if (ns.metadata.labels?.['weft.dev/use-waypoint'] !== undefined && ready.length === 0) enrolledBeforeReady ??= `labelled with no Ready waypoint pod (${pods.map((p) => p.metadata.name).join(', ') || 'none'})`;
    }
    const r = await cmd;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('namespace demo: weft.dev/use-waypoint=waypoint');
    expect(sawUnready).toBe(true);
    expect(enrolledBeforeReady).toBeUndefined();

    // The Deployment is the chart's parameters, not the controller's built-in defaults.
    const values = (await cluster!.typed(`helm get values weft -n ${NS} --all -o json`)).stdout;
    const v = JSON.parse(values) as { image: { registry: string; repository: string }; waypoint: { replicas: number; resources: unknown; podSecurityContext: unknown; securityContext: unknown; podDisruptionBudget: unknown } };
    const appVersion = /^appVersion:\s*"?([^"\n]+)"?/m.exec(await readFile(join(CHART, 'Chart.yaml'), 'utf8'))?.[1];
    const deploy = await json<{ spec: { replicas: number; template: { spec: { securityContext: unknown; containers: { image: string; args: string[]; resources: unknown; securityContext: unknown }[] } } }; status: { readyReplicas?: number } }>(['get', 'deployment', 'waypoint', '-n', 'demo']);
    const c = deploy.spec.template.spec.containers[0];
    expect(c.image).toBe(`${v.image.registry}/${v.image.repository}:${appVersion}`);
    expect(c.resources).toEqual(v.waypoint.resources);
    expect(c.securityContext).toEqual(v.waypoint.securityContext);
    expect(deploy.spec.template.spec.securityContext).toEqual(v.waypoint.podSecurityContext);
    expect(deploy.spec.replicas).toBe(v.waypoint.replicas);
    expect(c.args.join(' ')).toContain(`--control weft-control.${NS}.svc:15012`);
    const pdb = await json<{ spec: Record<string, unknown> }>(['get', 'poddisruptionbudget', 'waypoint', '-n', 'demo']);
    expect(pdb.spec).toMatchObject(v.waypoint.podDisruptionBudget as Record<string, unknown>);
    // Running pods on lab kubelets, placed by the real scheduler (the Deployment names no node).
    const pods = (await json<{ items: { spec: { nodeName?: string }; status: { phase: string } }[] }>(['get', 'pods', '-n', 'demo', '-l', 'gateway.networking.k8s.io/gateway-name=waypoint'])).items;
    expect(pods.length).toBeGreaterThanOrEqual(1);
    expect(pods.every((p) => (p.spec.nodeName ?? '') !== '')).toBe(true);
    expect(pods.some((p) => p.status.phase === 'Running')).toBe(true);
  }, 120_000);

  it('kubectl apply -f an HTTPRoute: the split reaches both backends, a slow backend gives 504 at the timeout, a failing one is retried; a route with no effect is not Accepted', async () => {
    await k(['apply', '-f', '-'], ROUTES);
    const accepted = async (name: string) => {
      const route = await json<{ status?: { parents?: { conditions: Condition[] }[] } }>(['get', 'httproute', name, '-n', 'demo']);
      return route.status?.parents?.[0]?.conditions.find((c) => c.type === 'Accepted');
    };
    await eventually(async () => ((await accepted('web'))?.status === 'True' ? true : undefined), 20_000, 'HTTPRoute demo/web Accepted');
    const direct = await eventually(async () => ((await accepted('direct'))?.status === 'False' ? await accepted('direct') : undefined), 20_000, 'HTTPRoute demo/direct Accepted=False');
    expect(direct?.message).toContain('weft.dev/use-waypoint');

    // Accepted means in effect: the first request after it already meets the route's timeout. A backend
    // taking 3 s is cut at 400 ms with 504.
    const slow = answer(await curl('http://web/slow?delay=3000'));
    expect(slow.code).toBe('504');
    expect(slow.seconds).toBeGreaterThanOrEqual(0.35);
    expect(slow.seconds).toBeLessThan(1.5);

    // The retries: a backend that always answers 503 sees the request 3 times (1 + 2 retries); its echo of
    // the last attempt carries the waypoint's attempt number.
    const flaky = answer(await curl('http://web/flaky?status=503'));
    expect(flaky.code).toBe('503');
    expect(flaky.body.headers?.['x-weft-attempt']).toBe('3');
    // Without the route's retry rule (the default route), the backend sees one attempt.
    const once = answer(await curl('http://web/?status=503'));
    expect(once.code).toBe('503');
    expect(once.body.headers?.['x-weft-attempt'] ?? '1').toBe('1');
    // The split: both backends answer within 20 requests (at 50 % each, one backend 20 times in a row has
    // odds of 2e-6).
    const seen: string[] = [];
    for (let i = 0; i < 20 && new Set(seen).size < 2; i++) {
      const a = answer(await curl('http://web/'));
      seen.push(`${a.code}:${a.body.pod ?? '?'}`);
    }
    expect(new Set(seen)).toEqual(new Set(['200:v1', '200:v2']));

    // The route with no effect has served its purpose: weft check (next) counts it as an error.
    await k(['delete', 'httproute', 'direct', '-n', 'demo']);
  }, 120_000);

  it('weft check is green, and red naming the node whose agent process was killed', async () => {
    const green = await weft(`weft check -n ${NS}`);
    expect(green.code, `${green.stdout}\n${green.stderr}`).toBe(0);
    // Retries are in the installed (standard channel) HTTPRoute schema: no warning that they are not.
    expect(green.stdout).toContain('✔ Gateway API CRDs: v1.7.0 (standard channel)');
    const node = cluster!.lab.info.nodes[1].name;
    const pod = (await k(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-node-agent', '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const rec = await readRecord(cluster!.lab.paths.procs, `pod-${NS}.${pod}-node-agent`);
    expect(rec, `the lab's record of ${pod}'s node-agent container`).toBeDefined();
    process.kill(rec!.pid, 'SIGKILL');
    const red = await eventually(async () => {
      const r = await weft(`weft check -n ${NS}`);
      return r.code !== 0 ? r : undefined;
    }, 15_000, `weft check red after killing the node agent on ${node}`);
    expect(red.stdout).toMatch(new RegExp(`node agents.*not ready on 1/2 node\\(s\\): ${node}`));
    // The kubelet restarts it, and the check is green again.
    await eventually(async () => ((await weft(`weft check -n ${NS}`)).code === 0 ? true : undefined), 30_000, 'weft check green again');
  }, 90_000);

  it('helm upgrade --wait to a changed value replaces every node agent while a long-lived connection through the mesh carries on; the old agents exit once it ends', async () => {
    const lab = cluster!.lab;
    type AgentPod = { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName: string }; status: { conditions?: Condition[] } };
    const agents = async () => (await json<{ items: AgentPod[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=weft-node-agent'])).items;
    const isReady = (p: AgentPod) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const old = new Set((await agents()).map((p) => p.metadata.name));
    // From inside the client pod on one node to the tcp-echo pod on the other: both nodes' agents carry it.
    const tcpIp = (await k(['get', 'pod', 'tcp', '-n', 'demo', '-o', 'jsonpath={.status.podIP}'])).stdout.trim();
    const conn = new EchoConnection(new NetnsSocketFactory(netnsPath(podNetns(lab.name, 'demo', 'client')), 0).connect(tcpIp, 9000));
    await conn.echo('before\n', 15_000);
    const t0 = Date.now();
    const upgrade = cluster!.typed(`helm upgrade weft ./helm/weft -n ${NS} --reuse-values --set nodeAgent.terminationDrainSeconds=40 --wait`);
    const agentLog = (pod: string) => readFile(join(lab.paths.logs, `pod-${NS}.${pod}-node-agent.log`), 'utf8').catch(() => '');
    // The DaemonSet surges: a new agent Ready on every node, then the old ones get SIGTERM and drain.
    await eventually(async () => {
      const fresh = (await agents()).filter((p) => !old.has(p.metadata.name) && isReady(p));
      if (fresh.length !== lab.info.nodes.length) return undefined;
      for (const name of old) if (!(await agentLog(name)).includes('"msg":"draining')) return undefined;
      return true;
    }, 40_000, 'a new Ready node agent on every node, the old ones draining');
    // The connection made before the upgrade still carries data both ways, through the draining agents
    // (each node's old agent holds it: the new ones take only new connections).
    await conn.echo('after\n', 15_000);
    expect(conn.error).toBeUndefined();
    expect(conn.text).toBe('before\nafter\n');
    // The client ends it; the old agents, with nothing left to drain, exit long before their 30 s grace,
    // and helm's --wait (which waits for them) returns.
    conn.socket.end();
    await conn.closed;
    await upgrade;
    expect(Date.now() - t0).toBeLessThan(30_000);
    for (const name of old) expect(await agentLog(name), name).toContain('"msg":"drained; exiting"');
    expect((await agents()).filter((p) => old.has(p.metadata.name))).toEqual([]);
  }, 120_000);
});
