// Pins: `weft waypoint apply` creates the Gateway of the contract (class weft-waypoint, listener mesh
// 15008/HBONE) and with --enroll-namespace labels the namespace only once the waypoint is ready (issue 13
// item 4: Programmed for the Gateway's current generation, which the control plane says only with a Ready
// replica known to the node agents); list/status read what the control plane reports; --wait returns
// only then and times out with ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing, enrolling nothing;
// delete removes the Gateway and the enrollment. Against the Kubernetes API and a lab directory alike.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyWaypoint, deleteWaypoint, enrollNamespace, listWaypoints, waypointApplyCommand, waypointStatusCommand } from '../../cli/commands/waypoint.js';
import type { ClusterClient } from '../../cli/kube/cluster-client.js';
import { hasCode } from '../../lib/errors/index.js';
import { KubeApiServerDouble } from '../support/kube-apiserver.js';
import { capture, kubeClient, tempLab, writeYaml } from './cluster-fixture.js';

const CONTRACT_SPEC = { gatewayClassName: 'weft-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] };
const programmed = { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'Programmed', status: 'True', reason: 'Programmed', message: '' }], addresses: [{ type: 'IPAddress', value: '10.96.0.20' }] };
const applyArgs = { namespace: 'demo', name: 'waypoint', for: 'service' as const, enrollNamespace: true, wait: false, timeout: 5, output: 'table' as const, intervalMs: 50 };
const notReady = (message: string, observedGeneration = 1) => ({
  conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'Programmed', status: 'False', reason: 'Pending', message, observedGeneration }],
  addresses: [{ type: 'IPAddress', value: '10.96.0.20' }],
});

describe('weft waypoint against the Kubernetes API', () => {
  let api: KubeApiServerDouble;
  let client: ClusterClient;
  beforeEach(async () => {
    api = await KubeApiServerDouble.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    client = kubeClient(api);
  });
  afterEach(() => api.close());

  /** Plays the control plane: the Gateway's status steps through `statuses`, one per `everyMs`. */
  const controlPlane = (statuses: object[], everyMs = 150): (() => void) => {
    let i = 0;
    const timer = setInterval(() => {
      const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io');
      if (gw === undefined || i >= statuses.length) return;
      api.put({ ...gw, status: statuses[i++] });
    }, everyMs);
    return () => clearInterval(timer);
  };
  const labels = () => api.getObject('namespaces', undefined, 'demo')?.metadata.labels ?? {};

  it('apply --enroll-namespace creates the contract Gateway by server-side apply and labels the namespace once it is ready', async () => {
    const stop = controlPlane([notReady('Waiting for a waypoint replica to be ready: 0 of 2 ready'), programmed]);
    const c = capture();
    try {
      expect(await waypointApplyCommand(client, applyArgs, c.printer)).toBe(0);
    } finally {
      stop();
    }
    const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io');
    expect(gw?.spec).toEqual(CONTRACT_SPEC);
    expect(gw?.metadata.labels).toEqual({ 'weft.dev/waypoint-for': 'service' });
    expect(api.requests.some((r) => r.method === 'PATCH' && r.query.fieldManager === 'weft')).toBe(true);
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
    expect(c.out.join('\n')).toContain('weft.dev/use-waypoint=waypoint');
  });

  it('list and status show what the control plane reported; status exits 1 until Programmed', async () => {
    await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service' });
    await enrollNamespace(client, 'demo', 'waypoint');
    api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'demo', labels: { 'weft.dev/use-waypoint': 'waypoint' } }, spec: {} });
    const c1 = capture();
    expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c1.printer)).toBe(1);
    expect(c1.out.join('\n')).toContain('no status yet');
    const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io')!;
    api.put({ ...gw, status: programmed });
    api.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'waypoint', namespace: 'demo', ownerReferences: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: gw.metadata.uid }] }, spec: { replicas: 1 }, status: { readyReplicas: 1 } });
    const c2 = capture();
    expect(await waypointStatusCommand(client, 'demo', 'waypoint', 'table', c2.printer)).toBe(0);
    expect(c2.out.join('\n')).toContain('deployment: waypoint 1/1 ready');
    expect(await listWaypoints(client, undefined)).toEqual([
      { namespace: 'demo', name: 'waypoint', for: 'service', programmed: 'True', reason: 'Programmed', addresses: ['10.96.0.20'], enrolled: ['namespace/demo', 'service/reviews'] },
    ]);
  });

  it('--wait returns only once the control plane programs the Gateway, and enrolls only then', async () => {
    // Not ready: no replica, then a replica the node agents do not know yet; then Programmed.
    const steps = [notReady('Waiting for a waypoint replica to be ready: 0 of 2 ready'), notReady('Waiting for the node agents: a discovery push to the node agents is pending'), programmed];
    const seen: string[] = [];
    const stop = controlPlane(steps);
    const watch = setInterval(() => {
      const gw = api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io');
      const p = (gw?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Programmed');
      seen.push(`${p?.status ?? 'none'}/${labels()['weft.dev/use-waypoint'] ?? '-'}`);
    }, 10);
    try {
      expect(await waypointApplyCommand(client, { ...applyArgs, wait: true, timeout: 20 }, capture().printer)).toBe(0);
    } finally {
      stop();
      clearInterval(watch);
    }
    // The namespace was never enrolled while the waypoint was not ready.
    expect(seen.filter((s) => s.startsWith('False/') || s.startsWith('none/')).every((s) => s.endsWith('/-'))).toBe(true);
    expect(seen).toContain('False/-');
    expect(labels()).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
  });

  it('a Programmed condition of an older generation is not ready', async () => {
    const stop = controlPlane([{ ...programmed, conditions: programmed.conditions.map((c) => ({ ...c, observedGeneration: 0 })) }]);
    try {
      const err = await waypointApplyCommand(client, { ...applyArgs, timeout: 1 }, capture().printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
      expect((err as Error).message).toContain('not yet for 1');
    } finally {
      stop();
    }
  });

  it('--enroll-namespace gives up with ERR_WEFT_CLI_WAYPOINT_NOT_READY naming what is missing, and enrolls nothing', async () => {
    const stop = controlPlane([notReady('Waiting for the node agents: the node agent of node n2 is not watching discovery (is it running?)')]);
    try {
      const err = await waypointApplyCommand(client, { ...applyArgs, timeout: 1 }, capture().printer).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
      expect((err as Error).message).toContain('node agent of node n2 is not watching discovery');
      expect((err as Error).message).toContain('namespace demo was not enrolled');
      expect(labels()).toEqual({});
    } finally {
      stop();
    }
  });

  it('--wait gives up naming the state when the control plane never answers', async () => {
    const err = await waypointApplyCommand(client, { ...applyArgs, enrollNamespace: false, wait: true, timeout: 1 }, capture().printer).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_WEFT_CLI_WAYPOINT_NOT_READY')).toBe(true);
    expect((err as Error).message).toContain('Programmed=Unknown');
    expect((err as Error).message).toContain('nothing was enrolled');
  });

  it('delete removes the Gateway and the namespace enrollment that named it', async () => {
    await applyWaypoint(client, { namespace: 'demo', name: 'waypoint', for: 'service' });
    await enrollNamespace(client, 'demo', 'waypoint');
    expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
    expect(api.getObject('gateways', 'demo', 'waypoint', 'gateway.networking.k8s.io')).toBeUndefined();
    expect(api.getObject('namespaces', undefined, 'demo')?.metadata.labels ?? {}).toEqual({});
    expect(await deleteWaypoint(client, 'demo', 'waypoint')).toEqual({ deleted: false, unenrolled: false });
  });

  it('without Gateway API CRDs the error says to install them', async () => {
    const bare = await KubeApiServerDouble.start({ resources: [{ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }] });
    try {
      const err = await listWaypoints(kubeClient(bare), undefined).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_WEFT_CLI_API_NOT_INSTALLED')).toBe(true);
      expect((err as { hint: string }).hint).toContain('Gateway API CRDs');
    } finally {
      await bare.close();
    }
  });
});

describe('weft waypoint against a lab', () => {
  let lab: Awaited<ReturnType<typeof tempLab>>;
  beforeEach(async () => {
    lab = await tempLab();
    // Namespace demo exists the lab way: something lives in it.
    await writeYaml(join(lab.cluster, 'manifests', 'Service.demo.backend.yaml'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'demo' }, spec: { ports: [{ port: 8080 }] } });
  });
  afterEach(() => lab.cleanup());

  it('apply writes the Gateway and the enrolled Namespace into manifests/, status comes from status/', async () => {
    // The lab's control plane writes status files; the CLI merges them (here: at once, ready).
    await writeYaml(join(lab.cluster, 'status', 'Gateway.demo.waypoint.yaml'), { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'demo' }, status: programmed });
    await waypointApplyCommand(lab.client, applyArgs, capture().printer);
    const gw = parse(await readFile(join(lab.cluster, 'manifests', 'Gateway.demo.waypoint.yaml'), 'utf8')) as { spec: unknown; metadata: { uid?: string } };
    expect(gw.spec).toEqual(CONTRACT_SPEC);
    expect(gw.metadata.uid).toBeDefined();
    const ns = parse(await readFile(join(lab.cluster, 'manifests', 'Namespace.demo.yaml'), 'utf8')) as { metadata: { labels: unknown } };
    expect(ns.metadata.labels).toEqual({ 'weft.dev/use-waypoint': 'waypoint' });
    const list = await listWaypoints(lab.client, 'demo');
    expect(list.map((w) => [w.name, w.programmed, w.addresses[0], w.enrolled])).toEqual([['waypoint', 'True', '10.96.0.20', ['namespace/demo']]]);
    expect(await deleteWaypoint(lab.client, 'demo', 'waypoint')).toEqual({ deleted: true, unenrolled: true });
    expect(await listWaypoints(lab.client, 'demo')).toEqual([]);
  });
});
