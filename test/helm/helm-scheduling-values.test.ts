// Failure: the chart had no values for affinity, topologySpreadConstraints, pod labels, update strategies,
// an image digest or the node agent's liveness probe (its schema refused them), so placing weft on
// dedicated nodes, pinning its image or tuning rollouts meant forking the chart. Pins: each value lands
// where Kubernetes reads it; the HA anti-affinity stays when a node affinity is given; labels the chart's
// selectors rely on cannot be overridden.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHART, cleanupHelmHome, describeHelm, find, helm, render, type Rendered } from './chart.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const infraNodes = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/infra', operator: 'Exists' }] }] } };
const spread = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'weft-control' } } }];
const VALUES = {
  image: { digest: DIGEST },
  control: {
    replicaCount: 3,
    affinity: { nodeAffinity: infraNodes },
    tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }],
    topologySpreadConstraints: spread,
    podLabels: { team: 'mesh' },
    podAnnotations: { 'example.org/owner': 'mesh' },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
  },
  nodeAgent: {
    affinity: { nodeAffinity: infraNodes },
    tolerations: [{ key: 'gpu', operator: 'Exists' }],
    podLabels: { team: 'mesh' },
    podAnnotations: { 'example.org/owner': 'mesh' },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' } },
    livenessProbe: { enabled: true, initialDelaySeconds: 20, periodSeconds: 15, timeoutSeconds: 2, failureThreshold: 4 },
  },
};

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: { affinity?: Record<string, unknown>; tolerations?: unknown[]; topologySpreadConstraints?: unknown[]; containers: { name: string; image: string; livenessProbe?: Record<string, unknown> }[] };
}
const template = (o: Rendered): PodTemplate => (o.spec as { template: PodTemplate }).template;

describeHelm('scheduling and rollout values', () => {
  let dir: string;
  let objs: Rendered[];
  let defaults: Rendered[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-t-helm-sched-'));
    await writeFile(join(dir, 'values.yaml'), stringify(VALUES));
    objs = await render(['--values', join(dir, 'values.yaml')]);
    defaults = await render();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await cleanupHelmHome();
  });

  it('control plane: affinity (with the HA anti-affinity kept), tolerations, spread, labels, annotations, strategy', () => {
    const d = find(objs, 'Deployment', 'weft-control');
    const t = template(d);
    expect(t.spec.affinity?.nodeAffinity).toEqual(infraNodes);
    expect(t.spec.affinity?.podAntiAffinity).toBeDefined();
    expect(t.spec.tolerations).toEqual(VALUES.control.tolerations);
    expect(t.spec.topologySpreadConstraints).toEqual(spread);
    expect(t.metadata.labels).toMatchObject({ team: 'mesh', 'app.kubernetes.io/name': 'weft-control' });
    expect(t.metadata.annotations).toMatchObject({ 'example.org/owner': 'mesh', 'prometheus.io/scrape': 'true' });
    expect((d.spec as { strategy: unknown }).strategy).toEqual(VALUES.control.updateStrategy);
  });

  it('node agent: affinity, tolerations, labels, annotations, update strategy, liveness probe', () => {
    const ds = find(objs, 'DaemonSet', 'weft-node-agent');
    const t = template(ds);
    expect(t.spec.affinity).toEqual({ nodeAffinity: infraNodes });
    expect(t.spec.tolerations).toEqual(VALUES.nodeAgent.tolerations);
    expect(t.metadata.labels).toMatchObject({ team: 'mesh', 'app.kubernetes.io/name': 'weft-node-agent', 'weft.dev/dataplane-mode': 'none' });
    expect(t.metadata.annotations).toMatchObject({ 'example.org/owner': 'mesh' });
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toEqual(VALUES.nodeAgent.updateStrategy);
    const agent = t.spec.containers.find((c) => c.name === 'node-agent');
    expect(agent?.livenessProbe).toEqual({ tcpSocket: { port: 15021 }, initialDelaySeconds: 20, periodSeconds: 15, timeoutSeconds: 2, failureThreshold: 4 });
  });

  it('the node agent has a liveness probe by default, and none when disabled', async () => {
    const agentOf = (o: Rendered[]): PodTemplate['spec']['containers'][number] | undefined => template(find(o, 'DaemonSet', 'weft-node-agent')).spec.containers.find((c) => c.name === 'node-agent');
    expect(agentOf(defaults)?.livenessProbe).toMatchObject({ tcpSocket: { port: 15021 } });
    expect(agentOf(await render(['--set', 'nodeAgent.livenessProbe.enabled=false']))?.livenessProbe).toBeUndefined();
  });

  it('an image digest pins every weft container and the waypoints', () => {
    const images = [find(objs, 'Deployment', 'weft-control'), find(objs, 'DaemonSet', 'weft-node-agent')].flatMap((o) => template(o).spec.containers.map((c) => c.image));
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (const image of images) expect(image).toBe(`ghcr.io/weft-mesh/weft@${DIGEST}`);
    expect(find(objs, 'ConfigMap', 'weft-waypoint').data?.image).toBe(`ghcr.io/weft-mesh/weft@${DIGEST}`);
  });

  it('defaults are unchanged: no affinity for one replica, the default rollout strategies', () => {
    const d = find(defaults, 'Deployment', 'weft-control');
    expect(template(d).spec.affinity).toBeUndefined();
    expect((d.spec as { strategy: unknown }).strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect((find(defaults, 'DaemonSet', 'weft-node-agent').spec as { updateStrategy: unknown }).updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it.each([
    ['a selector label', 'control.podLabels.app\\.kubernetes\\.io/name=other', 'control.podLabels'],
    ['the capture opt-out label', 'nodeAgent.podLabels.weft\\.dev/dataplane-mode=ambient', 'nodeAgent.podLabels'],
  ])('refuses %s in podLabels', async (_what, set, path) => {
    const r = await helm(['template', 'weft', CHART, '--namespace', 'weft-system', '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${path}: label`);
  });

  it('refuses a digest that is not one', async () => {
    const r = await helm(['template', 'weft', CHART, '--namespace', 'weft-system', '--set', 'image.digest=latest']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/at '\/image\/digest'/);
  });
});
